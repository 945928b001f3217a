// A host image held for the length of a render: released on every path, including
// errors (the host counts references). Validation at the boundary turns a malformed
// image into a message instead of a wild pointer in the engine.
#pragma once

#include <string>

#include "ofx_core.h"

namespace ee {

struct PixelFormat {
  const char *dtype = nullptr;  // numpy name
  int bytes_per_component = 0;
  int components = 0;
};

class ClipImage {
 public:
  ClipImage(OfxImageClipHandle clip, OfxTime time);
  ~ClipImage();
  ClipImage(const ClipImage &) = delete;
  ClipImage &operator=(const ClipImage &) = delete;

  bool valid() const { return handle_ != nullptr; }
  // "" when the image is usable, else what is wrong with it (names the clip).
  std::string check(const char *clip_name) const;

  void *data = nullptr;
  OfxRectI bounds{0, 0, 0, 0};
  long long row_bytes = 0;
  std::string depth;
  std::string components;
  std::string premultiplication;
  PixelFormat format;

 private:
  OfxPropertySetHandle handle_ = nullptr;
};

}  // namespace ee
