"""Short real recordings for the simulated CDRs: WAV (16 bits, 8000 Hz), MP3 or OGG.

Each call's recording is a few seconds of two-tone "speech" derived from its id, so two
calls sound different and the same call always sounds the same.

WAV is written by the standard library. MP3 and OGG need an encoder, which production
never does (callhub passes a real PBX's recordings on as they come): soundfile and numpy,
in the `simulator` extra (`pip install 'callhub[simulator]'`, which the setup script and
the tests install).
"""

from __future__ import annotations

import array
import base64
import functools
import hashlib
import io
import math
import sys
import wave

RATE = 8000
SYLLABLE_SECONDS = 0.2
FORMATS = {
    "wav": ("WAV", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ogg": ("OGG", "VORBIS"),
}


class EncoderMissing(RuntimeError):
    """MP3 or OGG asked for without the simulator extra installed."""


def samples(call_id: str, seconds: float) -> list[float]:
    """The recording's samples, from -1 to 1: syllables of 200 ms, each at a pitch taken
    from the call id's digest, with a soft envelope."""
    digest = hashlib.sha256(call_id.encode()).digest()
    count = int(RATE * max(seconds, 0.5))
    per_syllable = int(RATE * SYLLABLE_SECONDS)
    out = [0.0] * count
    for i in range(count // per_syllable):
        pitch = 180 + digest[i % len(digest)] * 1.5
        start = i * per_syllable
        for k in range(per_syllable):
            t = (start + k) / RATE
            envelope = math.sin(math.pi * k / (per_syllable - 1))
            tone = math.sin(2 * math.pi * pitch * t) + 0.3 * math.sin(4 * math.pi * pitch * t)
            out[start + k] = 0.25 * envelope * tone
    return out


def _wav(signal: list[float]) -> bytes:
    pcm = array.array("h", (round(max(-1.0, min(1.0, x)) * 32767) for x in signal))
    if sys.byteorder == "big":
        pcm.byteswap()  # WAV is little-endian
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm.tobytes())
    return out.getvalue()


def _encoded(signal: list[float], fmt: str) -> bytes:
    try:
        import numpy as np
        import soundfile
    except ImportError as exc:
        raise EncoderMissing(
            f"{fmt}: encoder not installed (pip install 'callhub[simulator]')"
        ) from exc
    container, subtype = FORMATS[fmt]
    out = io.BytesIO()
    soundfile.write(
        out, np.asarray(signal, dtype=np.float32), RATE, format=container, subtype=subtype
    )
    return out.getvalue()


@functools.lru_cache(maxsize=64)
def recording(call_id: str, seconds: float, fmt: str) -> bytes:
    signal = samples(call_id, seconds)
    return _wav(signal) if fmt == "wav" else _encoded(signal, fmt)


def recording_base64(call_id: str, seconds: float, fmt: str) -> str:
    return base64.b64encode(recording(call_id, round(seconds, 1), fmt)).decode()
