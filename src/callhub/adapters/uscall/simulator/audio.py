"""Short real recordings for the simulated CDRs: WAV (16 bits, 8000 Hz), MP3 or OGG.

Each call's recording is a few seconds of two-tone "speech" derived from its id, so two
calls sound different and the same call always sounds the same.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io

import numpy as np
import soundfile

RATE = 8000
FORMATS = {
    "wav": ("WAV", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ogg": ("OGG", "VORBIS"),
}


@functools.lru_cache(maxsize=64)
def recording(call_id: str, seconds: float, fmt: str) -> bytes:
    digest = hashlib.sha256(call_id.encode()).digest()
    t = np.arange(int(RATE * max(seconds, 0.5))) / RATE
    signal = np.zeros_like(t)
    # Syllables: 200 ms each, a pitch from the digest, with a soft envelope.
    for i in range(int(len(t) / (RATE * 0.2))):
        pitch = 180 + digest[i % len(digest)] * 1.5
        start, end = int(i * RATE * 0.2), int((i + 1) * RATE * 0.2)
        seg = t[start:end]
        env = np.sin(np.linspace(0, np.pi, len(seg)))
        signal[start:end] = env * (
            np.sin(2 * np.pi * pitch * seg) + 0.3 * np.sin(4 * np.pi * pitch * seg)
        )
    signal *= 0.25
    container, subtype = FORMATS[fmt]
    out = io.BytesIO()
    soundfile.write(out, signal.astype(np.float32), RATE, format=container, subtype=subtype)
    return out.getvalue()


def recording_base64(call_id: str, seconds: float, fmt: str) -> str:
    return base64.b64encode(recording(call_id, round(seconds, 1), fmt)).decode()
