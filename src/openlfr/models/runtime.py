"""Inference runtimes for the converted ONNX models: onnxruntime (float32) and OpenVINO (float32 or bfloat16).

Both run the same converted file (``openlfr.models.onnx_convert``) with an explicit thread count, so two models
do not oversubscribe the cores. ``choose_runtime`` turns the configured ``runtime``/``precision`` into what
runs on this machine; it is a pure function of what is installed and what the CPU can do (docs/ENGINE.md).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import queue
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

import numpy as np

from openlfr.errors import ModelLoadError

log = logging.getLogger(__name__)

RuntimeName = Literal["onnxruntime", "openvino"]
PrecisionName = Literal["f32", "bf16"]

# OpenVINO compiles a model per static input shape (its dynamic-shape CPU kernels measured 3-5x slower
# here); this many compiled shapes are kept per model, least recently used dropped first.
MAX_COMPILED_SHAPES = 8


def create_session(model_path: Path, threads: int) -> Any:
    """A CPU InferenceSession; raises ModelLoadError with the file name when onnxruntime refuses it."""
    block_runtime_telemetry()
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: shape warnings for symbolic dims are noise
    try:
        return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own non-exported exception types
        raise ModelLoadError(f"onnxruntime cannot load {model_path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class RuntimeChoice:
    """What runs a model, and why (logged at load)."""

    runtime: RuntimeName
    precision: PrecisionName
    reason: str

    @property
    def label(self) -> str:
        return f"{self.runtime}-{self.precision}"


def choose_runtime(runtime: str, precision: str, *, openvino_installed: bool, cpu_bf16: bool) -> RuntimeChoice:
    """Resolve the configured ``runtime`` ("auto"/"onnxruntime"/"openvino") and ``precision``
    ("auto"/"f32"/"bf16") on a machine; raises ModelLoadError for a combination that cannot run.

    "auto" prefers OpenVINO in bfloat16 where the CPU has native bf16 (measured faster at no measurable
    accuracy loss, docs/ENGINE.md); everywhere else it keeps onnxruntime in float32, the reference.
    """
    if runtime not in ("auto", "onnxruntime", "openvino") or precision not in ("auto", "f32", "bf16"):
        raise ModelLoadError(f"unknown runtime/precision {runtime!r}/{precision!r}")
    if runtime == "onnxruntime":
        if precision == "bf16":
            raise ModelLoadError("precision bf16 needs runtime openvino (onnxruntime runs these models in f32)")
        return RuntimeChoice("onnxruntime", "f32", "configured")
    if runtime == "openvino":
        if not openvino_installed:
            raise ModelLoadError("runtime openvino is configured but the openvino package is not installed")
        if precision == "bf16" and not cpu_bf16:
            raise ModelLoadError("precision bf16 is configured but this CPU has no native bf16 support")
        if precision == "auto":
            chosen: PrecisionName = "bf16" if cpu_bf16 else "f32"
            return RuntimeChoice("openvino", chosen, f"configured; {'' if cpu_bf16 else 'no '}CPU bf16")
        return RuntimeChoice("openvino", "bf16" if precision == "bf16" else "f32", "configured")
    # runtime == "auto"
    if precision == "f32":
        return RuntimeChoice("onnxruntime", "f32", "auto: f32 requested, onnxruntime is the f32 reference")
    if openvino_installed and cpu_bf16:
        return RuntimeChoice("openvino", "bf16", "auto: CPU has native bf16")
    if precision == "bf16":
        missing = "the openvino package" if not openvino_installed else "CPU bf16 support"
        raise ModelLoadError(f"precision bf16 is configured but {missing} is missing")
    why = "openvino not installed" if not openvino_installed else "CPU has no native bf16"
    return RuntimeChoice("onnxruntime", "f32", f"auto: {why}")


# OpenVINO's package imports its model converter, whose import runs Intel's telemetry (``openvino_telemetry``):
# a Google Analytics client that resolves www.google-analytics.com, may send an "import" event and writes a
# client id and counters under ~/intel. Its documented opt-out (``opt_in_out --opt_out``) is itself a file
# under ~/intel. Instead the package is made unimportable in this process before OpenVINO is first imported:
# OpenVINO then falls back to its own no-op stub (``openvino.tools.ovc.telemetry_stub``), as it does where
# the package is not installed. Nothing of it ever runs (tests/test_outbound.py watches every connection).
TELEMETRY_MODULE = "openvino_telemetry"
# CPU flags (/proc/cpuinfo) without which OpenVINO cannot report native bf16: checked before importing it.
_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "avx_ne_convert", "avx_vnni_int8"})


# onnxruntime (1.32 on Linux) ships Microsoft's 1DS telemetry: an uploader, a ProcessInfo event, a persistent
# device id and an offline event cache (~/.cache/Microsoft/DeveloperTools/.onnxruntime/{deviceid,onnxruntime.db},
# written by `import onnxruntime` itself). ORT_DISABLE_TELEMETRY=1, set before onnxruntime initialises, is its
# documented full opt-out ("no uploader, events, persistent device identifier, or offline cache is created").
ORT_TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"


def block_runtime_telemetry() -> None:
    """Opt out of both runtimes' telemetry for this process before either is imported (idempotent): what
    ``lfr`` does first thing, and what the runners do before importing their runtime."""
    os.environ[ORT_TELEMETRY_ENV] = "1"  # read by onnxruntime when it initialises (at import)
    block_openvino_telemetry()


def block_openvino_telemetry() -> None:
    """Make ``openvino_telemetry`` unimportable in this process (idempotent; call before importing OpenVINO)."""
    loaded = sys.modules.get(TELEMETRY_MODULE)
    if loaded is not None:
        log.warning("openvino_telemetry was imported before it could be blocked (by another library)")
        return
    sys.modules[TELEMETRY_MODULE] = None  # type: ignore[assignment]  # makes `import` raise ImportError


def import_openvino() -> ModuleType:
    """``import openvino`` with its telemetry blocked. Only the code that runs a model on OpenVINO calls it."""
    import importlib

    block_openvino_telemetry()
    return importlib.import_module("openvino")


def openvino_installed() -> bool:
    """Whether the openvino package is installed, without importing it (importing it is not free: see above)."""
    try:
        return importlib.util.find_spec("openvino") is not None
    except (ImportError, ValueError):
        return False


def _cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags from /proc/cpuinfo; None where that file does not exist (not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return None


@lru_cache(maxsize=1)
def cpu_supports_bf16() -> bool:
    """Whether OpenVINO reports native bfloat16 on this CPU (AVX512-BF16 / AMX); False without OpenVINO.

    Where the CPU flags show no bf16 instruction at all the answer is known without importing OpenVINO."""
    if not openvino_installed():
        return False
    flags = _cpu_flags()
    if flags is not None and not flags & _BF16_CPU_FLAGS:
        return False
    return "BF16" in _openvino_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


@lru_cache(maxsize=1)
def _openvino_core() -> Any:
    return import_openvino().Core()


def resolve_runtime(runtime: str, precision: str) -> RuntimeChoice:
    """``choose_runtime`` on this machine."""
    installed = openvino_installed()
    needs_cpu_probe = installed and runtime != "onnxruntime" and not (runtime == "auto" and precision == "f32")
    return choose_runtime(
        runtime, precision, openvino_installed=installed, cpu_bf16=cpu_supports_bf16() if needs_cpu_probe else False
    )


ChannelOrder = Literal["bgr", "rgb"]


class InferenceRunner(Protocol):
    """One image model with one float32 NCHW input of 0..255 pixel values (one inference session; the pipeline's
    ``ModelRunner`` is another thing: it shares the face models between cameras).

    ``run_images`` takes uint8 BGR images (N, H, W, 3) and returns the outputs in ``output_names`` order. The
    conversion to the model's input (channel order, layout, float) is the runtime's: OpenVINO compiles channel
    order and layout into the graph (measured: YuNet on 640x384, 4.4 instead of 5.6-6.1 ms per call, identical
    outputs), onnxruntime gets all of it from numpy.
    """

    choice: RuntimeChoice
    output_names: tuple[str, ...]

    def run_images(self, images: np.ndarray) -> list[np.ndarray]: ...


def images_to_blob(images: np.ndarray, channels: ChannelOrder) -> np.ndarray:
    """uint8 BGR (N, H, W, 3) → float32 (N, 3, H, W) in the model's channel order."""
    ordered = images[..., ::-1] if channels == "rgb" else images
    return np.ascontiguousarray(ordered.transpose(0, 3, 1, 2), dtype=np.float32)


class OnnxRuntimeRunner:
    def __init__(self, model_path: Path, threads: int, *, channels: ChannelOrder = "bgr") -> None:
        self.choice = RuntimeChoice("onnxruntime", "f32", "configured")
        self._channels = channels
        self._session = create_session(model_path, threads)
        self._input_name: str = self._session.get_inputs()[0].name
        self.output_names: tuple[str, ...] = tuple(o.name for o in self._session.get_outputs())

    def run_images(self, images: np.ndarray) -> list[np.ndarray]:
        blob = images_to_blob(images, self._channels)
        return list(self._session.run(list(self.output_names), {self._input_name: blob}))


class OpenVinoRunner:
    """OpenVINO on the CPU, one compiled model per input shape (compiled on first use, ~0.2-0.6 s).

    ``split_batch``: batches are run as power-of-two chunks (7 faces = 4 + 2 + 1), so at most
    log2(max_batch) + 1 shapes are ever compiled for a batched model and no padding is computed.
    ``channels``: the model's channel order; images arrive as uint8 BGR NHWC, are copied as float32 into the
    request's input and the compiled graph reorders channels and layout (``_with_image_input``).
    ``parallel_calls``: how many threads may call ``run_images`` at once (the pipeline detects on every camera's
    thread). The model is compiled with that many streams of ``threads`` threads and as many infer requests (a
    request is not thread-safe): a call takes an idle one, or waits. With one stream, OpenVINO runs concurrent
    requests one after the other anyway (measured: two threads, 11.2 ms per call each instead of 5.4 ms).
    """

    def __init__(
        self,
        model_path: Path,
        threads: int,
        precision: PrecisionName,
        *,
        channels: ChannelOrder = "bgr",
        split_batch: bool = False,
        parallel_calls: int = 1,
    ) -> None:
        self.choice = RuntimeChoice("openvino", precision, "configured")
        self._channels = channels
        self._threads = threads
        self._streams = max(1, parallel_calls)
        self._split_batch = split_batch
        core = _openvino_core()
        try:
            self._model = core.read_model(str(model_path))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses of its own
            raise ModelLoadError(f"OpenVINO cannot load {model_path}: {exc}") from exc
        if len(self._model.inputs) != 1:
            raise ModelLoadError(f"{model_path}: expected one input, found {len(self._model.inputs)}")
        self.output_names = tuple(output.get_any_name() for output in self._model.outputs)
        self._compiled: OrderedDict[tuple[int, ...], queue.SimpleQueue[Any]] = OrderedDict()
        self._compile_lock = threading.Lock()

    def run_images(self, images: np.ndarray) -> list[np.ndarray]:
        if not self._split_batch or images.shape[0] <= 1:
            return self._infer(images)
        parts = [self._infer(images[start:stop]) for start, stop in power_of_two_chunks(images.shape[0])]
        return [np.concatenate([part[i] for part in parts]) for i in range(len(self.output_names))]

    def _infer(self, images: np.ndarray) -> list[np.ndarray]:
        idle = self._requests(tuple(images.shape))
        request = idle.get()  # waits while every stream of this shape is busy
        try:
            # uint8 -> float32 into the request's own input buffer: no allocation per call, and a float32
            # NHWC input lets OpenVINO fold the NHWC -> NCHW transpose into its first reorder (``_with_image_input``).
            np.copyto(request.get_input_tensor(0).data, images, casting="unsafe")
            request.infer()
            return [np.array(request.get_output_tensor(i).data) for i in range(len(self.output_names))]
        finally:
            idle.put(request)

    def _requests(self, shape: tuple[int, ...]) -> queue.SimpleQueue[Any]:
        """The idle infer requests for ``shape``, one per stream, compiled on first use. A fixed pool, not one
        request per calling thread: a service answers from dozens of threads, and each request holds the
        model's intermediate buffers."""
        with self._compile_lock:
            idle = self._compiled.get(shape)
            if idle is not None:
                self._compiled.move_to_end(shape)
                return idle
            model = self._with_image_input(shape)
            config = {
                "PERFORMANCE_HINT": "LATENCY",
                "NUM_STREAMS": self._streams,
                "INFERENCE_NUM_THREADS": self._threads * self._streams,
                "INFERENCE_PRECISION_HINT": self.choice.precision,
                # Other threads (decoders, other models) share the cores: do not pin ours to them.
                "ENABLE_CPU_PINNING": False,
            }
            try:
                compiled = _openvino_core().compile_model(model, "CPU", config)
            except Exception as exc:
                raise ModelLoadError(f"OpenVINO cannot compile the model for input shape {shape}: {exc}") from exc
            idle = queue.SimpleQueue()
            for _ in range(self._streams):
                idle.put(compiled.create_infer_request())
            self._compiled[shape] = idle
            if len(self._compiled) > MAX_COMPILED_SHAPES:
                self._compiled.popitem(last=False)  # requests in use finish normally; the pool is then freed
            return idle

    def _with_image_input(self, shape: tuple[int, ...]) -> Any:
        """The model for BGR NHWC float32 images of ``shape``: channel order and layout become the first nodes of
        the graph. The input is float32, not uint8: with a uint8 input OpenVINO transposes the bytes, converts
        them and reorders them again (0.7 ms on a 640x480 YuNet frame); with float32 the transpose and its
        reorder fuse into one (0.2 ms) and numpy's uint8 -> float32 copy costs 0.1-0.2 ms."""
        import_openvino()  # the telemetry is blocked before any OpenVINO import
        from openvino import Layout, Type
        from openvino.preprocess import ColorFormat, PrePostProcessor

        batch, height, width, _ = shape
        model = self._model.clone()
        model.reshape({0: [batch, 3, height, width]})
        steps = PrePostProcessor(model)
        tensor = steps.input().tensor().set_element_type(Type.f32).set_layout(Layout("NHWC")).set_shape(list(shape))
        steps.input().model().set_layout(Layout("NCHW"))
        if self._channels == "rgb":
            tensor.set_color_format(ColorFormat.BGR)
            steps.input().preprocess().convert_color(ColorFormat.RGB)
        return steps.build()


def power_of_two_chunks(count: int) -> list[tuple[int, int]]:
    """[start, stop) ranges covering ``count`` items, largest power of two first (7 → 0:4, 4:6, 6:7)."""
    chunks, start = [], 0
    for bit in reversed(range(count.bit_length())):
        size = 1 << bit
        if count & size:
            chunks.append((start, start + size))
            start += size
    return chunks


def create_runner(
    model_path: Path,
    threads: int,
    runtime: str,
    precision: str,
    *,
    what: str,
    channels: ChannelOrder = "bgr",
    split_batch: bool = False,
    parallel_calls: int = 1,
) -> InferenceRunner:
    """A runner for ``model_path`` on the runtime resolved from the configuration (logged as ``what``).

    Both runners may be called from several threads at once (an onnxruntime session is thread-safe; OpenVINO
    gets ``parallel_calls`` streams so that that many calls actually run side by side)."""
    choice = resolve_runtime(runtime, precision)
    runner: InferenceRunner
    if choice.runtime == "openvino":
        runner = OpenVinoRunner(
            model_path,
            threads,
            choice.precision,
            channels=channels,
            split_batch=split_batch,
            parallel_calls=parallel_calls,
        )
    else:
        runner = OnnxRuntimeRunner(model_path, threads, channels=channels)
    runner.choice = choice
    log.info("%s runs on %s (%s; %d thread(s))", what, choice.label, choice.reason, threads)
    return runner
