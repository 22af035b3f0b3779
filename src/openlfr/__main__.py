from openlfr.cli import main

raise SystemExit(main())
