"""The node renders real footage exactly as the command line does, the way hosts drive it.

Every test loads the built bundle into the project's test host (tests/node/host): real
dlopen, real OFX action sequence, real embedded Python. Outputs are compared with
``emotionedit render`` on the same pixels, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from ofxhost import Frame, cli_render, engine_env, run, window_slice

from emotionedit.io import FrameSpec, open_frames, open_writer

pytestmark = pytest.mark.usefixtures("node_built")  # the built bundle and the test host

FIRST = 672  # franck's talking frames, as analysed by the `talking` fixture (672-719)


def test_node_matches_cli_like_mlt(tmp_path, franck_path, analysis_file):
    """MLT's pattern: Load/Describe/CreateInstance per frame, a fresh instance per frame, two render
    threads, rows bottom-up with negative row bytes; Intensity keyframed 0 -> 1 and read at time."""
    last = FIRST + 5
    with open_frames(str(franck_path), (FIRST, last)) as reader:
        plate = dict(iter(reader))
    expected = cli_render(tmp_path, str(franck_path), f"{FIRST}-{last}", analysis_file, "--emotion", "happy",
                          "--intensity", f"{FIRST}:0,{last}:1")
    frames = [Frame(n, plate[n]) for n in plate]
    result = run(tmp_path, frames, {"analysisFile": analysis_file, "emotion": "Happy",
                                    "intensity": f"{FIRST}=0;{last}=1"},
                 threads=2, reload=3, rows="negative")
    assert result.returncode == 0, result.stderr
    for n in plate:
        assert result.status(n) == 0, result.text(n)
        assert result.checks[n]["outside_window_bytes"] == "0"
        assert result.checks[n]["source_intact"] == "1"
        np.testing.assert_array_equal(result.outputs[n], expected[n], err_msg=f"frame {n}")
    # The edit really animates: untouched at the first key, growing after it.
    changed = [int((result.outputs[n] != plate[n]).any(axis=2).sum()) for n in plate]
    assert changed[0] == 0 and changed[-1] > changed[1] > 0, changed
    # The node asks for the whole source (the warp needs the whole face) and releases every image.
    assert f"ROI time={FIRST:.6f} 0.000000 0.000000 360.000000 288.000000" in result.lines
    assert result.summary()["live_images"] == "0"
    assert result.summary()["unknown_suites"] == "0"


def _plate_in(dtype: np.dtype, channels: int, frames: list[np.ndarray]) -> list[np.ndarray]:
    """franck's 8-bit frames in another depth, with an alpha ramp when RGBA."""
    out = []
    for image in frames:
        x = image.astype(np.float64) / 255.0
        if channels == 4:
            alpha = np.linspace(0.25, 1.0, image.shape[1])[None, :, None].repeat(image.shape[0], axis=0)
            x = np.concatenate([x, alpha], axis=2)
        if dtype == np.uint8:
            out.append(np.round(x * 255).astype(np.uint8))
        elif dtype == np.uint16:
            out.append(np.round(x * 65535).astype(np.uint16))
        else:
            out.append(x.astype(dtype))
    return out


CASES = [
    # depth, channels, rows, padding
    ("byte", 3, "positive", 8),
    ("byte", 4, "negative", 0),
    ("short", 3, "negative", 4),
    ("short", 4, "positive", 0),
    ("half", 3, "positive", 0),
    ("half", 4, "negative", 6),
    ("float", 3, "negative", 0),
    ("float", 4, "positive", 16),
]


@pytest.mark.parametrize("transport", ["in-process", "server"])
@pytest.mark.parametrize(("depth", "channels", "rows", "padding"), CASES,
                         ids=[f"{d}-{'RGBA' if c == 4 else 'RGB'}-{r}" for d, c, r, _ in CASES])
def test_node_matches_cli_at_every_depth(tmp_path, talking, analysis_file, depth, channels, rows, padding,
                                         transport):
    """Every depth and layout, a render window smaller than the image, non-default parameters, through
    either transport: the window equals the command line's render, bit for bit (half-float included:
    both run the same float16 code), and nothing outside the window is written."""
    from ofxhost import DEPTHS

    dtype = np.dtype(DEPTHS[depth])
    numbers = [FIRST + 3, FIRST + 9]
    images = _plate_in(dtype, channels, [talking[0][n - FIRST] for n in numbers])
    ext = "exr" if dtype.kind == "f" else "png"
    plate = tmp_path / "plate" / f"plate.####.{ext}"
    spec = FrameSpec(width=360, height=288, channels=channels, channel_names=("R", "G", "B", "A")[:channels],
                     dtype=dtype, fps=24.0, metadata=(), format_name="openexr" if ext == "exr" else "png")
    with open_writer(str(plate), spec, numbers) as writer:
        for n, image in zip(numbers, images, strict=True):
            writer.write(n, image)
    with open_frames(str(plate)) as reader:
        read_back = dict(iter(reader))
    options = ["--emotion", "sad", "--intensity", "1.4", "--emotion2", "surprised", "--blend", "0.3",
               "--lip-preservation", "0.5", "--mode", "replace", "--regions", "brows,eyes,mouth",
               "--smoothing", "2"]
    expected = cli_render(tmp_path, str(plate), f"{numbers[0]}-{numbers[1]}", analysis_file, *options)
    windows = {numbers[0]: None, numbers[1]: (100, 40, 300, 230)}  # x1, y1, x2, y2 with y up
    frames = [Frame(n, read_back[n], windows[n]) for n in numbers]
    params = {"analysisFile": analysis_file, "emotion": "Sad", "intensity": 1.4, "emotion2": "Surprised",
              "blend": 0.3, "lipPreservation": 0.5, "mode": "Replace", "regionCheeks": 0, "regionNose": 0,
              "smoothing": 2}
    result = run(tmp_path, frames, params, depth=depth, rows=rows, padding=padding, threads=2,
                 env=engine_env(EMOTIONEDIT_TRANSPORT=transport))
    assert result.returncode == 0, result.stderr
    assert result.engine_note(numbers[0]).startswith(f"Engine: {transport}"), result.text(numbers[0])
    # Every channel is warped together: the output keeps the source's premultiplication.
    premultiplied = "OfxImageAlphaPremultiplied" if channels == 4 else "OfxImageOpaque"
    assert f"PREFS time={numbers[0]:.6f} premultiplication={premultiplied}" in result.lines
    for n in numbers:
        assert result.status(n) == 0, result.text(n)
        assert result.checks[n]["outside_window_bytes"] == "0"
        assert result.checks[n]["source_intact"] == "1"
        rows_, cols = window_slice(windows[n] or (0, 0, 360, 288), 288)
        got, want = result.outputs[n][rows_, cols], expected[n][rows_, cols]
        assert (want != read_back[n][rows_, cols]).any(), "the edit changed nothing in the window"
        np.testing.assert_array_equal(got, want, err_msg=f"frame {n}")


@pytest.mark.parametrize("output", ["matte", "landmarks"])
def test_node_check_outputs_match_cli(tmp_path, franck_path, analysis_file, output):
    n = FIRST + 20
    with open_frames(str(franck_path), (n, n)) as reader:
        plate = dict(iter(reader))
    expected = cli_render(tmp_path, str(franck_path), f"{n}-{n}", analysis_file, "--output-mode", output)
    label = {"matte": "Face Matte", "landmarks": "Landmarks"}[output]
    result = run(tmp_path, [Frame(n, plate[n])], {"analysisFile": analysis_file, "output": label})
    assert result.status(n) == 0, result.text(n)
    np.testing.assert_array_equal(result.outputs[n], expected[n])


def test_shared_instance_on_several_threads_and_identity(tmp_path, franck_path, analysis_file):
    """Resolve/Nuke-style: one instance rendered from several threads, asked IsIdentity first. With an
    Analysis File the node never claims identity (Render checks the file covers the frame, as the command
    line does), and at intensity 0 Render copies the source bit for bit."""
    last = FIRST + 3
    with open_frames(str(franck_path), (FIRST, last)) as reader:
        plate = dict(iter(reader))
    expected = cli_render(tmp_path, str(franck_path), f"{FIRST}-{last}", analysis_file, "--emotion", "angry",
                          "--intensity", f"{FIRST}:0,{last}:1")
    frames = [Frame(n, plate[n]) for n in plate]
    result = run(tmp_path, frames, {"analysisFile": analysis_file, "emotion": "Angry",
                                    "intensity": f"{FIRST}=0;{last}=1"},
                 instances="shared", threads=3, identity=True)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.lines if line.startswith("IDENTITY")]
    for n in plate:
        assert result.status(n) == 0, result.text(n)
        np.testing.assert_array_equal(result.outputs[n], expected[n])
    np.testing.assert_array_equal(result.outputs[FIRST], plate[FIRST])  # intensity 0


def test_cuda_render_plumbing_without_a_gpu(tmp_path, franck_path, analysis_file):
    """A CUDA render hands the engine descriptors of the host's images and the host's stream.
    The images here are host memory, read back by a test module: the result must equal the CPU render."""
    n = FIRST + 7
    with open_frames(str(franck_path), (n, n)) as reader:
        plate = dict(iter(reader))
    params = {"analysisFile": analysis_file, "emotion": "Happy", "intensity": 1}
    cpu = run(tmp_path, [Frame(n, plate[n], (30, 20, 330, 270))], params)
    env = engine_env(EMOTIONEDIT_NODE_MODULE="host_memory_cuda")
    gpu = run(tmp_path, [Frame(n, plate[n], (30, 20, 330, 270))], params, cuda=1, cuda_stream=1, env=env,
              rows="positive", padding=12)
    assert gpu.status(n) == 0, gpu.text(n) + gpu.stderr
    assert gpu.checks[n]["outside_window_bytes"] == "0"
    np.testing.assert_array_equal(gpu.outputs[n], cpu.outputs[n])


def test_cuda_render_without_cupy_asks_host_for_cpu(tmp_path, franck_path, analysis_file):
    """Without CuPy (or a device) a CUDA render fails with kOfxStatGPURenderFailed, so the host retries on CPU."""
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed: this checks the fallback where it is not")
    except ImportError:
        pass
    n = FIRST
    with open_frames(str(franck_path), (n, n)) as reader:
        plate = dict(iter(reader))
    result = run(tmp_path, [Frame(n, plate[n])], {"analysisFile": analysis_file}, cuda=1, cuda_stream=1)
    assert result.status(n) == 1002, result.text(n)
    assert "CuPy" in result.text(n)
