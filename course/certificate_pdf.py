"""The certificate as a one-page PDF (reportlab), with a QR code (segno) to verify it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import segno
from reportlab.lib.colors import HexColor, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from course import LIMITS_STATEMENT
from course.certificate import (
    NOT_ASSESSED,
    PASS_MARK,
    CompletionSummary,
    every_module,
    module_status,
)
from course.credential import SELF_STUDY_NOTE, qr_payload, sha256_hex

QR_SIZE = 38 * mm


def qr_code(payload: str) -> segno.QRCode:
    """The QR code of the verification payload (error correction M, always binary-safe)."""
    return segno.make(payload, error="m", micro=False)


def _draw_qr(canvas: Canvas, matrix: tuple, x: float, y: float, size: float) -> None:
    quiet = 4  # modules of white border, as the standard asks
    cells = len(matrix) + 2 * quiet
    module = size / cells
    canvas.setFillColor(white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(black)
    for row, line in enumerate(matrix):
        for column, dark in enumerate(line):
            if dark:
                canvas.rect(x + (column + quiet) * module,
                            y + size - (row + quiet + 1) * module, module, module,
                            stroke=0, fill=1)


def _wrapped(canvas: Canvas, text: str, x: float, y: float, width: float,
             font: str = "Helvetica", size: float = 9.5, leading: float = 12.5) -> float:
    """Draw ``text`` wrapped to ``width``; return the y below it."""
    canvas.setFont(font, size)
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if canvas.stringWidth(trial, font, size) > width and line:
            canvas.drawString(x, y, line)
            y -= leading
            line = word
        else:
            line = trial
    if line:
        canvas.drawString(x, y, line)
        y -= leading
    return y


def write_pdf(summary: CompletionSummary, credential: dict[str, Any], path: Path,
              self_study: bool, compress: bool = True) -> Path:
    """One A4 page: learner, every module with its status, final result, limits, credential
    id and QR code."""
    canvas = Canvas(str(path), pagesize=A4, pageCompression=int(compress), invariant=1)
    canvas.setTitle(credential["name"])
    canvas.setAuthor(credential["issuer"]["name"])
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    y = height - 25 * mm
    canvas.setFont("Helvetica-Bold", 17)
    canvas.drawString(left, y, "Mesotherapy for practitioners")
    y -= 8 * mm
    canvas.setFont("Helvetica", 13)
    canvas.drawString(left, y, "Certificate of completion"
                      + (" — self-study" if self_study else ""))
    y -= 12 * mm
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(left, y, summary.learner)
    y -= 7 * mm
    y = _wrapped(canvas, f"Date: {summary.issued.isoformat()} · Results from: "
                 f"{summary.source} · Issuer: {credential['issuer']['name']}", left, y,
                 right - left)
    if self_study:
        y = _wrapped(canvas, SELF_STUDY_NOTE, left, y, right - left, "Helvetica-Bold")
    y -= 4 * mm
    canvas.setFont("Helvetica-Bold", 9.5)
    columns = (left, left + 38 * mm, left + 92 * mm, left + 125 * mm, left + 152 * mm)
    for x, title in zip(columns, ("Assignment", "Module", "Score", "Status", "Minutes"),
                        strict=True):
        canvas.drawString(x, y, title)
    canvas.setFont("Helvetica", 9.5)
    rows = [(i, t, "—", NOT_ASSESSED, "—") if m is None else
            (i, t, f"{m.score:g} / {m.max_score:g} ({m.percent:.0f}%)", module_status(m),
             str(m.minutes)) for i, t, m in every_module(summary)]
    for cells in rows:
        y -= 5.5 * mm
        for x, cell in zip(columns, cells, strict=True):
            canvas.drawString(x, y, cell)
    y -= 9 * mm
    y = _wrapped(canvas, f"Final assessment: {summary.final_percent:.0f}% — passed (pass "
                 f"mark {100 * PASS_MARK:.0f}%). Estimated study time: "
                 f"{summary.minutes // 60} h {summary.minutes % 60} min.", left, y,
                 right - left, "Helvetica-Bold")
    y -= 3 * mm
    canvas.setStrokeColor(HexColor("#D55E00"))
    canvas.setLineWidth(3)
    top = y + 4 * mm
    y = _wrapped(canvas, "This is not a certificate of competence. " + LIMITS_STATEMENT,
                 left + 4 * mm, y, right - left - 4 * mm)
    canvas.line(left, top, left, y + 8)
    qr_y = 20 * mm
    _draw_qr(canvas, qr_code(qr_payload(credential)).matrix, left, qr_y, QR_SIZE)
    text_x = left + QR_SIZE + 6 * mm
    ty = qr_y + QR_SIZE - 4 * mm
    ty = _wrapped(canvas, "Verify this certificate: the QR code holds the credential's id and "
                  "the SHA-256 of its signed JSON (Open Badges 3.0, Ed25519). To check it, run "
                  "course verify on the .credential.json file and compare the SHA-256.",
                  text_x, ty, right - text_x, size=8.5, leading=11)
    ty = _wrapped(canvas, f"Credential: {credential['id']}", text_x, ty, right - text_x,
                  size=8, leading=10.5)
    _wrapped(canvas, f"SHA-256: {sha256_hex(credential)}", text_x, ty, right - text_x,
             "Courier", size=7, leading=9)
    canvas.showPage()
    canvas.save()
    return path
