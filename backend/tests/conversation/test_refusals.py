from app.vocabulary.refusals import MAX_CLOSE_REASON_BYTES, clip_close_reason


def test_short_reason_is_kept() -> None:
    assert clip_close_reason("missing credentials") == "missing credentials"


def test_long_reason_fits_in_a_close_frame_without_splitting_a_character() -> None:
    clipped = clip_close_reason("é" * 100)
    assert len(clipped.encode()) <= MAX_CLOSE_REASON_BYTES
    assert clipped == "é" * 60 + "..."
