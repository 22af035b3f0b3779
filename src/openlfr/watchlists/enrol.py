"""Enrolment of one reference image: digest check → decode → strict quality gate → duplicate-identity
check → media + database, in that order, so nothing of a rejected image is ever written anywhere.

An image enrolled for a subject that already has images is compared with them: when its face matches none
of them at the model's calibrated threshold, it is enrolled with a warning (``ImageMismatch``) that says so,
and the warning is audited with the image, in the same transaction."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.errors import PermissionDeniedError
from openlfr.auth.principal import Principal
from openlfr.engine import FaceEngine
from openlfr.errors import ImageDecodeError
from openlfr.imaging.decode import decode_image
from openlfr.pipeline.thresholds import calibrated_for
from openlfr.store import media_refs
from openlfr.store.context import Store
from openlfr.store.media import sha256_hex
from openlfr.store.models import ReferenceImage, Subject, Template, Watchlist
from openlfr.types import Embedding, FloatArray, ModelContract
from openlfr.watchlists.subjects import add_member, create_subject, find_subject, validate_info
from openlfr.watchlists.types import EnrolResult, ImageMismatch, Outcome, RejectCode, SubjectInfo


def template_digest(contract: ModelContract, vector: FloatArray) -> str:
    """sha256 over the contract and the little-endian float32 vector: equal only for the same template."""
    header = json.dumps(contract.as_dict(), sort_keys=True).encode("utf-8")
    return hashlib.sha256(header + b"\0" + np.asarray(vector, dtype="<f4").tobytes()).hexdigest()


def vector_bytes(vector: FloatArray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from(data: bytes) -> FloatArray:
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def contract_of(template: Template) -> ModelContract:
    return ModelContract(template.model, template.weights_sha256, template.dimension, template.preprocessing)


class Gallery:
    """Every stored template of one model contract, in memory, for the duplicate-identity check.

    Loaded once per enrolment run and extended as images are enrolled, so a bulk import does not re-read
    the database for every image. A plain matrix product is exact and fast at watchlist sizes (~20k)."""

    def __init__(self, contract: ModelContract) -> None:
        self.contract = contract
        self._vectors = np.zeros((64, contract.dimension), np.float32)
        self._subjects: list[str] = []

    @classmethod
    def load(cls, session: Session, contract: ModelContract) -> Gallery:
        gallery = cls(contract)
        rows = session.execute(
            select(Template.subject_id, Template.vector).where(
                Template.model == contract.model,
                Template.weights_sha256 == contract.weights_sha256,
                Template.dimension == contract.dimension,
                Template.preprocessing == contract.preprocessing,
            )
        )
        for subject_id, data in rows:
            gallery.add(subject_id, vector_from(data))
        return gallery

    def __len__(self) -> int:
        return len(self._subjects)

    def add(self, subject_id: str, vector: FloatArray) -> None:
        n = len(self._subjects)
        if n == self._vectors.shape[0]:
            self._vectors = np.concatenate([self._vectors, np.zeros_like(self._vectors)])
        self._vectors[n] = vector
        self._subjects.append(subject_id)

    def best_other(self, vector: FloatArray, subject_id: str | None) -> tuple[str, float] | None:
        """The most similar template's subject and score, among subjects other than ``subject_id``."""
        n = len(self._subjects)
        if n == 0:
            return None
        scores = self._vectors[:n] @ vector
        if subject_id is not None:
            scores = np.where(np.array(self._subjects) == subject_id, -np.inf, scores)
        best = int(np.argmax(scores))
        if not np.isfinite(scores[best]):
            return None
        return self._subjects[best], float(scores[best])


@dataclass(frozen=True, slots=True)
class StoredImage:
    """What one enrolment added: the subject (created by it, or not) and the reference image."""

    subject_id: str
    image_id: str
    new_subject: bool


# Called inside the enrolment's own transaction, so what it records (an audit entry) commits with the image.
OnStored = Callable[[Session, StoredImage], None]


@dataclass(frozen=True, slots=True)
class EnrolRequest:
    """One image for one subject. ``info`` creates the subject if ``subject_ref`` does not exist yet."""

    subject_ref: str
    data: bytes
    source_name: str
    info: SubjectInfo | None = None
    info_error: str | None = None  # why ``info`` could not be made (reported if the subject is new)
    by: Principal | None = None
    """who adds the subject when ``info`` creates it, or puts it on ``watchlist_id`` (needed then: both are
    governed actions)"""
    watchlist_id: str | None = None
    force: bool = False
    on_stored: OnStored | None = None


def calibrated_threshold(contract: ModelContract) -> float | None:
    """The model's calibrated 1:1 threshold (``openlfr.pipeline.thresholds``); None for an uncalibrated one."""
    found = calibrated_for(contract.model, contract.weights_sha256, contract.preprocessing)
    return found.threshold if found is not None else None


class Enroller:
    def __init__(
        self,
        store: Store,
        engine: FaceEngine,
        duplicate_threshold: float,
        consistency_threshold: float | None = None,
    ) -> None:
        """``consistency_threshold``: below it, a subject's new image does not match its others (default: the
        engine model's calibrated threshold; a model without one gets no such check)."""
        self.store = store
        self.engine = engine
        self.duplicate_threshold = duplicate_threshold
        self.consistency_threshold = (
            consistency_threshold if consistency_threshold is not None else calibrated_threshold(engine.contract)
        )
        self._gallery: Gallery | None = None

    def gallery(self) -> Gallery:
        if self._gallery is None:
            with self.store.db.session() as session:
                self._gallery = Gallery.load(session, self.engine.contract)
        return self._gallery

    def enrol(self, request: EnrolRequest) -> EnrolResult:
        digest = sha256_hex(request.data)
        with self.store.db.session() as session:
            early = self._check_known(session, request, digest)
            subject = find_subject(session, request.subject_ref)
            subject_id = subject.id if subject is not None else None
        if early is not None:
            return early
        try:
            image = decode_image(request.data, self.engine.config.max_image_pixels, request.source_name)
        except ImageDecodeError as exc:
            return EnrolResult(Outcome.REJECTED, RejectCode.UNREADABLE, str(exc), digest)
        analysis = self.engine.analyse(image, limits=self.engine.config.enrolment_quality)
        face = analysis.largest
        if not analysis.verdict.passed or face is None or face.embedding is None:
            reasons = [str(r) for r in analysis.verdict.reasons]
            return EnrolResult(Outcome.REJECTED, reasons[0], ",".join(reasons), digest)
        same_picture = self._same_template(face.embedding, digest)
        if same_picture is not None:
            return same_picture
        match = self.gallery().best_other(face.embedding.vector, subject_id)
        duplicate = match if match is not None and match[1] >= self.duplicate_threshold else None
        if duplicate is not None and not request.force:
            return self._duplicate_result(duplicate, digest)
        mismatch = self._mismatch(subject_id, face.embedding)
        self._store(
            request, digest, analysis.verdict.as_dict(), face.quality.as_dict(), face.embedding, duplicate, mismatch
        )
        return EnrolResult(
            Outcome.ENROLLED,
            digest=digest,
            duplicate_of=duplicate[0] if duplicate else None,
            duplicate_score=duplicate[1] if duplicate else None,
            warning=mismatch,
        )

    def _mismatch(self, subject_id: str | None, embedding: Embedding) -> ImageMismatch | None:
        """A warning when the face matches none of the subject's other templates (same model contract)."""
        threshold = self.consistency_threshold
        if subject_id is None or threshold is None:
            return None
        contract = embedding.contract
        with self.store.db.session() as session:
            rows = session.execute(
                select(Template.vector, ReferenceImage.source_name)
                .join(ReferenceImage, ReferenceImage.id == Template.image_id)
                .where(
                    Template.subject_id == subject_id,
                    Template.model == contract.model,
                    Template.weights_sha256 == contract.weights_sha256,
                    Template.dimension == contract.dimension,
                    Template.preprocessing == contract.preprocessing,
                )
            ).all()
        if not rows:
            return None
        scores = np.stack([vector_from(data) for data, _ in rows]) @ embedding.vector
        best = int(np.argmax(scores))
        if float(scores[best]) >= threshold:
            return None
        return ImageMismatch(float(scores[best]), threshold, len(rows), rows[best][1])

    def _check_known(self, session: Session, request: EnrolRequest, digest: str) -> EnrolResult | None:
        """Already enrolled (for this subject: fine, idempotent) or enrolled for someone else (rejected)."""
        subject = find_subject(session, request.subject_ref)
        existing = session.scalars(select(ReferenceImage).where(ReferenceImage.digest == digest)).one_or_none()
        if existing is not None:
            if subject is not None and existing.subject_id == subject.id:
                self._ensure_member(session, subject, request)
                return EnrolResult(Outcome.ALREADY_ENROLLED, digest=digest)
            other = session.get(Subject, existing.subject_id)
            owner = other.external_ref if other is not None else existing.subject_id
            return EnrolResult(
                Outcome.REJECTED,
                RejectCode.DUPLICATE_IMAGE,
                f"the same image is already enrolled for subject {owner!r}",
                digest,
            )
        if subject is None and request.info is None:
            detail = request.info_error or f"no subject {request.subject_ref!r} to enrol into"
            return EnrolResult(Outcome.REJECTED, RejectCode.INVALID_METADATA, detail)
        if subject is None and request.info is not None:
            try:
                validate_info(request.info)
            except ValueError as exc:
                return EnrolResult(Outcome.REJECTED, RejectCode.INVALID_METADATA, str(exc))
        return None

    def _same_template(self, embedding: Embedding, digest: str) -> EnrolResult | None:
        """Other file bytes, same pixels (e.g. a JPEG re-saved as PNG) give the very same template: that is
        the same image twice, whoever it is enrolled for."""
        template = template_digest(embedding.contract, embedding.vector)
        with self.store.db.session() as session:
            owner_id = session.scalars(select(Template.subject_id).where(Template.digest == template)).first()
            if owner_id is None:
                return None
            owner = session.get(Subject, owner_id)
            name = owner.external_ref if owner is not None else owner_id
        detail = f"the same picture (other file bytes, identical face template) is already enrolled for {name!r}"
        return EnrolResult(Outcome.REJECTED, RejectCode.DUPLICATE_IMAGE, detail, digest)

    def _duplicate_result(self, duplicate: tuple[str, float], digest: str) -> EnrolResult:
        with self.store.db.session() as session:
            other = session.get(Subject, duplicate[0])
            owner = other.external_ref if other is not None else duplicate[0]
        return EnrolResult(
            Outcome.DUPLICATE,
            RejectCode.POSSIBLE_DUPLICATE_IDENTITY,
            f"face matches subject {owner!r} (score {duplicate[1]:.3f} >= {self.duplicate_threshold:.3f}); "
            "use --force if they are different people",
            digest,
            duplicate_of=duplicate[0],
            duplicate_score=duplicate[1],
        )

    @staticmethod
    def _audit_mismatch(
        session: Session, request: EnrolRequest, subject_id: str, image_id: str, mismatch: ImageMismatch
    ) -> None:
        """The warning goes on the record with the image, naming who enrolled it."""
        if request.by is None:
            raise PermissionDeniedError("an image that does not match its subject's others needs who enrols it")
        append_audit(
            session,
            actor=request.by.actor,
            action="subject.image.mismatch",
            target_type="subject",
            target_id=subject_id,
            details={"image_id": image_id, **{k: v for k, v in mismatch.as_dict().items() if k != "detail"}},
        )

    @staticmethod
    def _ensure_member(session: Session, subject: Subject, request: EnrolRequest) -> None:
        if request.watchlist_id is not None:
            watchlist = session.get(Watchlist, request.watchlist_id)
            if watchlist is not None:
                if request.by is None:
                    raise PermissionDeniedError("adding a subject to a watchlist needs the principal who does it")
                add_member(session, watchlist, subject, by=request.by)

    def _store(
        self,
        request: EnrolRequest,
        digest: str,
        report: dict[str, object],
        quality: dict[str, float | bool],
        embedding: Embedding,
        duplicate: tuple[str, float] | None,
        mismatch: ImageMismatch | None = None,
    ) -> None:
        # Media first, then the rows: a crash in between leaves an unreferenced file that the next run of the
        # same import re-uses (same address); the reverse would leave rows pointing at nothing.
        stored = self.store.media.put(request.data)
        try:
            with self.store.db.session() as session:
                subject = find_subject(session, request.subject_ref)
                new_subject = subject is None
                if subject is None:
                    assert request.info is not None  # checked in _check_known
                    if request.by is None:
                        raise PermissionDeniedError("a new subject needs the principal who adds it")
                    subject = create_subject(session, request.info, by=request.by)
                self._ensure_member(session, subject, request)
                image = ReferenceImage(
                    subject_id=subject.id,
                    digest=digest,
                    size_bytes=stored.size_bytes,
                    encrypted=stored.encrypted,
                    source_name=request.source_name[-255:],
                    quality_report=report,
                    duplicate_of=duplicate[0] if duplicate else None,
                    duplicate_score=duplicate[1] if duplicate else None,
                )
                session.add(image)
                session.flush()
                session.add(
                    Template(
                        image_id=image.id,
                        subject_id=subject.id,
                        digest=template_digest(embedding.contract, embedding.vector),
                        vector=vector_bytes(embedding.vector),
                        model=embedding.contract.model,
                        weights_sha256=embedding.contract.weights_sha256,
                        dimension=embedding.contract.dimension,
                        preprocessing=embedding.contract.preprocessing,
                        quality=quality,
                    )
                )
                subject_id = subject.id
                if mismatch is not None:
                    self._audit_mismatch(session, request, subject.id, image.id, mismatch)
                if request.on_stored is not None:
                    request.on_stored(session, StoredImage(subject.id, image.id, new_subject))
        except BaseException:
            # Undo our write, unless the same bytes are already someone's (an alert's image, say).
            media_refs.delete_if_unreferenced(self.store, [digest])
            raise
        self.gallery().add(subject_id, embedding.vector)


def record_enrolment(
    session: Session, subject_id: str | None, results: Sequence[EnrolResult], *, by: Principal
) -> None:
    """The audit entry of one request to enrol images for a subject (an API upload, ``lfr subject add|update
    --image``): how many images were enrolled, refused and why, by whom — never any of their content. Each image
    is stored in its own transaction (media first, then rows), so the request is recorded when it is over."""
    if not results:
        return
    append_audit(
        session,
        actor=by.actor,
        action="subject.enrol",
        target_type="subject",
        target_id=subject_id,
        details={
            "outcomes": dict(Counter(str(r.outcome) for r in results)),
            "codes": dict(Counter(str(r.code) for r in results if r.code)),
            "mismatch_warnings": sum(1 for r in results if r.warning is not None),
        },
    )
