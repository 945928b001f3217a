// Pixel rectangles of OFX images (rows bottom-up from bounds.y1; row bytes may be negative,
// MLT's default): the copies the node makes between the host's images and memory of its own
// (the in-process node's private buffers, the engine server's shared memory). Rectangles are
// OFX pixel rectangles x1, y1, x2, y2 (y up, x2 and y2 excluded).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../bridge/bridge_api.h"

namespace ee {

// x1 >= x2 or y1 >= y2.
inline bool rect_empty(const int rect[4]) {
  return rect[0] >= rect[2] || rect[1] >= rect[3];
}

// `inner` lies inside `outer`.
inline bool rect_inside(const int inner[4], const int outer[4]) {
  return inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3];
}

// The address of OFX pixel (x, y) of an image.
std::uint8_t *pixel_address(const EEImage &image, int x, int y, std::size_t pixel_bytes);

// Bytes of a rectangle packed: rows of (x2 - x1) pixels, no padding.
std::size_t packed_bytes(const int rect[4], std::size_t pixel_bytes);

// A packed buffer (rows top-down, no padding) as an image with bounds `rect`.
EEImage packed_image(std::uint8_t *data, const int rect[4], std::size_t pixel_bytes);

// The pixels of `rect` (inside the image) as an image of their own, in the same memory.
EEImage sub_image(const EEImage &image, const int rect[4], std::size_t pixel_bytes);

// Copy a rectangle of an image (inside it) to packed rows, top row first, and back.
void copy_to_packed(const EEImage &image, const int rect[4], std::size_t pixel_bytes, std::uint8_t *packed);
void copy_from_packed(const std::uint8_t *packed, const EEImage &image, const int rect[4], std::size_t pixel_bytes);

// Fill the render `window` of `dst` (inside it) with what the engine leaves alone: `src`'s pixels
// (or 0 when `zero`), and 0 wherever the window lies outside `src`'s bounds, as OFX hosts expect.
// The pixels of `hole` (inside the window, or empty) are not written: the engine's part.
void fill_window(const EEImage &src, const EEImage &dst, const int window[4], const int hole[4], bool zero,
                 std::size_t pixel_bytes);

}  // namespace ee
