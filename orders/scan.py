"""Reading a pickup QR code from a camera frame that the pickup desk page posts.

The desk decodes on the server rather than in the browser: Chromium on Linux and many phones have no
native `BarcodeDetector`, and a clerk's cheap phone on the store's own network sends a 20-60 kB JPEG
faster than it could run a JavaScript decoder over the frame. zxing-cpp (native, maintained, the
decoder the tests already check the QR codes with) reads blurred, skewed and low-contrast frames well.

Frames are untrusted uploads: the byte size is capped before anything is parsed, the pixel count and
each side are checked from the header before a single pixel is decoded (a small file can claim a huge
image, and a 1 x 70,000 strip passes a pixel count that zxing-cpp still refuses), and only the formats
a browser canvas produces are opened. Whatever Pillow or the decoder then raises on a frame is that
frame's fault, refused as `invalid_image`, never a 500.
"""

from __future__ import annotations

import io
import logging
import warnings
from typing import Final

import zxingcpp
from PIL import Image

from orders.exceptions import InvalidFrame

# A 1280x720 JPEG from a phone camera is 50-150 kB and a PNG of the same frame under 1 MB; the page
# sends at most 800 px on the long side.
MAX_FRAME_BYTES: Final = 1024 * 1024
# The pixel count is what decoding costs in memory and time; 4 megapixels is more than any frame the
# page sends and still decodes in tens of milliseconds.
MAX_FRAME_PIXELS: Final = 4_000_000
# Far beyond any frame the page sends (800 px) or a camera makes, and below the 65,535 px per side that
# zxing-cpp accepts.
MAX_FRAME_SIDE: Final = 8192
FRAME_MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/webp"})
_FORMATS: Final = frozenset({"JPEG", "PNG", "WEBP"})
_QR_ONLY: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
# What Pillow raises for unreadable, truncated and malformed files (SyntaxError: some PNG chunks).
_UNREADABLE: Final = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)

logger = logging.getLogger(__name__)


def decode_frame(data: bytes) -> str | None:
    """The text of the first QR code in the frame, or None when it shows none.

    Raises `InvalidFrame` for anything that is not a JPEG, PNG or WebP image of a sane size.
    """
    if not data:
        raise InvalidFrame("the frame is empty")
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than raises) below its own decompression-bomb limit; ours is lower.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            if image.format not in _FORMATS:
                raise InvalidFrame("the frame must be a JPEG, PNG or WebP image")
            width, height = image.size
            if width * height > MAX_FRAME_PIXELS:
                raise InvalidFrame(f"the frame is {width}x{height}; at most {MAX_FRAME_PIXELS} pixels")
            if max(width, height) > MAX_FRAME_SIDE:
                raise InvalidFrame(f"the frame is {width}x{height}; at most {MAX_FRAME_SIDE} px a side")
            # Greyscale is all a QR decoder looks at, and a quarter of the memory of RGBA.
            grey = image.convert("L")
        results = zxingcpp.read_barcodes(grey, formats=_QR_ONLY)
    except InvalidFrame:
        raise
    except _UNREADABLE as exc:
        raise InvalidFrame("the frame is not a readable image") from exc
    except Exception as exc:
        # A native decoder and a dozen image plugins over untrusted bytes: an error not in the list above
        # is still the frame's, but worth a look.
        logger.warning("a camera frame failed to decode", exc_info=True)
        raise InvalidFrame("the frame is not a readable image") from exc
    return next((result.text for result in results if result.valid and result.text), None)
