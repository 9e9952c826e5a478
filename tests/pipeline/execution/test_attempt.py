"""Which attempt of its execution a call works for: 0, then the redrive count inside execution_attempt."""
import threading

import pytest

from pipeline.execution.attempt import current_attempt, execution_attempt


def test_a_call_outside_any_execution_attempt_is_the_first_attempt():
    assert current_attempt() == 0


def test_inside_the_block_the_attempt_is_the_redrive_count_and_after_it_as_before():
    with execution_attempt(2):
        assert current_attempt() == 2
    assert current_attempt() == 0


def test_nested_blocks_restore_the_outer_attempt():
    with execution_attempt(1):
        with execution_attempt(3):
            assert current_attempt() == 3
        assert current_attempt() == 1
    assert current_attempt() == 0


def test_an_error_in_the_block_still_restores_the_attempt():
    with pytest.raises(RuntimeError):
        with execution_attempt(4):
            raise RuntimeError("handler failed")
    assert current_attempt() == 0


def test_another_thread_does_not_see_this_calls_attempt():
    seen = []
    with execution_attempt(5):
        thread = threading.Thread(target=lambda: seen.append(current_attempt()))
        thread.start()
        thread.join()
        assert current_attempt() == 5
    assert seen == [0]
