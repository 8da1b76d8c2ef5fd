#!/usr/bin/python3
"""Fixtures for tests/unit/test_npz.cpp: .npz files exactly as numpy writes them.

    make_npz_fixtures.py write DIR        regenerate the committed fixtures into DIR
    make_npz_fixtures.py check FILE       exit 0 iff np.load(FILE) holds reference_arrays()
    make_npz_fixtures.py write-large FILE N [compressed]
    make_npz_fixtures.py check-large FILE N

The reference arrays are mirrored in test_npz.cpp (reference_tensors()); change both together.
Run with Debian's /usr/bin/python3 and its numpy.
"""
import io
import sys
import zipfile

import numpy as np
from numpy.lib import format as npy_format


def reference_arrays():
    """One array per supported dtype, plus a 0-d and an empty one, in file order."""
    return {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1),
        "f16": np.array([1.5, -2.0, 65504.0, 0.0], dtype=np.float16),
        "i64": np.array([-(2**62), 0, 2**62 + 5], dtype=np.int64),
        "i32": np.arange(-3, 3, dtype=np.int32).reshape(3, 2),
        "i8": np.array([-128, -1, 0, 127], dtype=np.int8),
        "u8": np.array([[0, 1], [200, 255]], dtype=np.uint8),
        "flags": np.array([True, False, True]),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.int32),
    }


def large_array(n):
    return (np.arange(n, dtype=np.int64) % 1000).astype(np.float32)


class Unseekable:
    """A write-only stream: zipfile then sets the data-descriptor flag, as when numpy writes to a
    pipe, and leaves sizes and CRC out of the local headers."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def write(self, data):
        return self.buffer.write(data)

    def flush(self):
        pass

    def read(self, size=-1):  # numpy passes objects with read() straight to zipfile
        raise io.UnsupportedOperation("write-only stream")


def write_streamed(path, compressed):
    stream = Unseekable()
    (np.savez_compressed if compressed else np.savez)(stream, **reference_arrays())
    with open(path, "wb") as f:
        f.write(stream.buffer.getvalue())


def write_zip64_records(path):
    """With the ZIP64 threshold at 0, zipfile puts every size and offset into ZIP64 extra fields
    and writes the ZIP64 end records: the layout numpy produces for arrays over 2 GiB."""
    saved = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        np.savez(path, **reference_arrays())
    finally:
        zipfile.ZIP64_LIMIT = saved


def write_npy_versions(path):
    """Members in each .npy format version, and a Fortran-ordered array."""
    members = [
        ("v1.npy", np.arange(5, dtype=np.int32), (1, 0)),
        ("v2.npy", np.arange(5, dtype=np.int32) * 10, (2, 0)),
        ("v3.npy", np.arange(5, dtype=np.int32) * 100, (3, 0)),
        ("fortran.npy", np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)), None),
    ]
    with zipfile.ZipFile(path, "w") as archive:
        for name, array, version in members:
            with archive.open(name, "w", force_zip64=True) as f:
                npy_format.write_array(f, array, version=version)


def write_all(folder):
    np.savez(f"{folder}/numpy_savez.npz", **reference_arrays())
    np.savez_compressed(f"{folder}/numpy_savez_compressed.npz", **reference_arrays())
    write_streamed(f"{folder}/numpy_streamed_stored.npz", compressed=False)
    write_streamed(f"{folder}/numpy_streamed_compressed.npz", compressed=True)
    write_zip64_records(f"{folder}/numpy_zip64_records.npz")
    write_npy_versions(f"{folder}/numpy_npy_versions.npz")


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def check(path):
    expected = reference_arrays()
    with np.load(path) as loaded:
        if list(loaded.files) != list(expected):
            fail(f"names {loaded.files} != {list(expected)}")
        for name, want in expected.items():
            got = loaded[name]
            if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
                fail(f"array {name}: got {got.dtype} {got.shape} {got!r}, want {want.dtype} {want.shape} {want!r}")


def check_large(path, n):
    with np.load(path) as loaded:
        got = loaded["big"]
        if got.dtype != np.float32 or not np.array_equal(got, large_array(n)):
            fail(f"array big: got {got.dtype} {got.shape}, want float32 ({n},) pattern")


def main(argv):
    if len(argv) >= 3 and argv[1] == "write":
        write_all(argv[2])
    elif len(argv) == 3 and argv[1] == "check":
        check(argv[2])
    elif len(argv) >= 4 and argv[1] == "write-large":
        saver = np.savez_compressed if argv[4:] == ["compressed"] else np.savez
        saver(argv[2], big=large_array(int(argv[3])))
    elif len(argv) == 4 and argv[1] == "check-large":
        check_large(argv[2], int(argv[3]))
    else:
        fail(__doc__)
    print("ok")


if __name__ == "__main__":
    main(sys.argv)
