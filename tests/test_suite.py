"""The suite itself: what makes its verdict depend on the code alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st


def test_property_tests_draw_the_same_inputs_on_every_run():
    drawn: list[list[str]] = [[], []]

    def draw(into: list[str]) -> None:
        @given(st.text(min_size=1))
        def record(text: str) -> None:
            into.append(text)

        record()

    draw(drawn[0])
    draw(drawn[1])  # another run, as CI's next one would be
    assert drawn[0] and drawn[0] == drawn[1]
