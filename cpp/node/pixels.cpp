#include "pixels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ee {

namespace {

// Rows y1..y2 of columns x1..x2 of `src` into `dst` (both cover them), or 0 there when src is null.
// Whole rows of images laid out alike are one block of memory (either row order): one copy, which
// lets memcpy use its large-copy path instead of one call per row.
void copy_block(const EEImage *src, const EEImage &dst, int x1, int x2, int y1, int y2, std::size_t pixel_bytes) {
  if (x1 >= x2 || y1 >= y2) return;
  const std::size_t row = static_cast<std::size_t>(x2 - x1) * pixel_bytes;
  const long long packed = static_cast<long long>(row);
  const bool whole_rows = x1 == dst.x1 && x2 == dst.x2 && std::llabs(dst.row_bytes) == packed &&
                          (src == nullptr || (x1 == src->x1 && x2 == src->x2 && src->row_bytes == dst.row_bytes));
  if (whole_rows) {
    // The lowest address is row y1 for positive row bytes, row y2 - 1 for negative ones.
    const int low = dst.row_bytes > 0 ? y1 : y2 - 1;
    const std::size_t bytes = row * static_cast<std::size_t>(y2 - y1);
    std::uint8_t *out = pixel_address(dst, x1, low, pixel_bytes);
    if (src != nullptr)
      std::memcpy(out, pixel_address(*src, x1, low, pixel_bytes), bytes);
    else
      std::memset(out, 0, bytes);
    return;
  }
  for (int y = y1; y < y2; ++y) {
    std::uint8_t *out = pixel_address(dst, x1, y, pixel_bytes);
    if (src != nullptr)
      std::memcpy(out, pixel_address(*src, x1, y, pixel_bytes), row);
    else
      std::memset(out, 0, row);
  }
}

// Columns x1..x2 of rows y1..y2 of the window: src's pixels where it has them, else 0.
void fill_band(const EEImage *src, const EEImage &dst, int x1, int x2, int y1, int y2, std::size_t pixel_bytes) {
  if (x1 >= x2 || y1 >= y2) return;
  if (src == nullptr) {
    copy_block(nullptr, dst, x1, x2, y1, y2, pixel_bytes);
    return;
  }
  const int cx1 = std::clamp(src->x1, x1, x2), cx2 = std::clamp(src->x2, cx1, x2);
  const int cy1 = std::clamp(src->y1, y1, y2), cy2 = std::clamp(src->y2, cy1, y2);
  copy_block(nullptr, dst, x1, x2, y1, cy1, pixel_bytes);  // below the source
  copy_block(nullptr, dst, x1, x2, cy2, y2, pixel_bytes);  // above it
  copy_block(nullptr, dst, x1, cx1, cy1, cy2, pixel_bytes);
  copy_block(src, dst, cx1, cx2, cy1, cy2, pixel_bytes);
  copy_block(nullptr, dst, cx2, x2, cy1, cy2, pixel_bytes);
}

}  // namespace

std::uint8_t *pixel_address(const EEImage &image, int x, int y, std::size_t pixel_bytes) {
  return static_cast<std::uint8_t *>(image.data) + static_cast<long long>(y - image.y1) * image.row_bytes +
         static_cast<long long>(x - image.x1) * static_cast<long long>(pixel_bytes);
}

std::size_t packed_bytes(const int rect[4], std::size_t pixel_bytes) {
  return static_cast<std::size_t>(rect[2] - rect[0]) * static_cast<std::size_t>(rect[3] - rect[1]) * pixel_bytes;
}

EEImage packed_image(std::uint8_t *data, const int rect[4], std::size_t pixel_bytes) {
  const long long row = static_cast<long long>(rect[2] - rect[0]) * static_cast<long long>(pixel_bytes);
  EEImage image{};
  image.x1 = rect[0];
  image.y1 = rect[1];
  image.x2 = rect[2];
  image.y2 = rect[3];
  image.row_bytes = -row;  // the bottom row (y1) is the last one
  image.data = data + (rect[3] - rect[1] - 1) * row;
  return image;
}

EEImage sub_image(const EEImage &image, const int rect[4], std::size_t pixel_bytes) {
  EEImage part = image;
  part.data = pixel_address(image, rect[0], rect[1], pixel_bytes);
  part.x1 = rect[0];
  part.y1 = rect[1];
  part.x2 = rect[2];
  part.y2 = rect[3];
  return part;
}

void copy_to_packed(const EEImage &image, const int rect[4], std::size_t pixel_bytes, std::uint8_t *packed) {
  const std::size_t row = static_cast<std::size_t>(rect[2] - rect[0]) * pixel_bytes;
  for (int y = rect[3] - 1; y >= rect[1]; --y, packed += row) {
    std::memcpy(packed, pixel_address(image, rect[0], y, pixel_bytes), row);
  }
}

void copy_from_packed(const std::uint8_t *packed, const EEImage &image, const int rect[4], std::size_t pixel_bytes) {
  const std::size_t row = static_cast<std::size_t>(rect[2] - rect[0]) * pixel_bytes;
  for (int y = rect[3] - 1; y >= rect[1]; --y, packed += row) {
    std::memcpy(pixel_address(image, rect[0], y, pixel_bytes), packed, row);
  }
}

void fill_window(const EEImage &src, const EEImage &dst, const int window[4], const int hole[4], bool zero,
                 std::size_t pixel_bytes) {
  const EEImage *from = zero ? nullptr : &src;
  const int x1 = window[0], y1 = window[1], x2 = window[2], y2 = window[3];
  if (rect_empty(hole)) {
    fill_band(from, dst, x1, x2, y1, y2, pixel_bytes);
    return;
  }
  fill_band(from, dst, x1, x2, y1, hole[1], pixel_bytes);  // below the hole
  fill_band(from, dst, x1, x2, hole[3], y2, pixel_bytes);  // above it
  fill_band(from, dst, x1, hole[0], hole[1], hole[3], pixel_bytes);
  fill_band(from, dst, hole[2], x2, hole[1], hole[3], pixel_bytes);
}

}  // namespace ee
