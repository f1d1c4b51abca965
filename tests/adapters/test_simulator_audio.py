"""The USCall simulator's recordings: WAV from the standard library alone, MP3 and OGG
through the `simulator` extra's encoder."""

from __future__ import annotations

import io
import sys
import wave

import pytest

from callhub.adapters.uscall.simulator import audio


def test_a_wav_recording_is_16_bit_8000_hz_speech_of_the_length_asked():
    data = audio.recording("wav-call-1", 1.5, "wav")
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == 12000
        frames = wav.readframes(wav.getnframes())
    assert max(frames) > 0, "silent"
    assert audio.recording("wav-call-1", 1.5, "wav") == data  # the same call sounds the same
    assert audio.recording("wav-call-2", 1.5, "wav") != data


def test_wav_needs_no_encoder_and_mp3_without_one_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setitem(sys.modules, "soundfile", None)  # as on a production install
    audio.recording.cache_clear()
    try:
        assert audio.recording("bare-install", 0.5, "wav").startswith(b"RIFF")
        with pytest.raises(audio.EncoderMissing, match=r"callhub\[simulator\]"):
            audio.recording("bare-install", 0.5, "mp3")
    finally:
        audio.recording.cache_clear()


def test_with_the_extra_mp3_and_ogg_are_encoded():
    assert audio.recording("encoded", 0.5, "ogg").startswith(b"OggS")
    mp3 = audio.recording("encoded", 0.5, "mp3")
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF
