#include "image.h"

#include <cstdlib>
#include <cstring>

#include "ofx_names.h"
#include "suites.h"

namespace ee {

namespace {

std::string get_string(OfxPropertySetHandle p, const char *name) {
  char *value = nullptr;
  return props().propGetString(p, name, 0, &value) == kOfxStatOK && value != nullptr ? std::string(value)
                                                                                     : std::string();
}

PixelFormat format_of(const std::string &depth, const std::string &components) {
  PixelFormat f;
  if (depth == kOfxBitDepthByte)
    f = {"uint8", 1, 0};
  else if (depth == kOfxBitDepthShort)
    f = {"uint16", 2, 0};
  else if (depth == kOfxBitDepthHalf)
    f = {"float16", 2, 0};
  else if (depth == kOfxBitDepthFloat)
    f = {"float32", 4, 0};
  if (components == kOfxImageComponentRGBA)
    f.components = 4;
  else if (components == kOfxImageComponentRGB)
    f.components = 3;
  return f;
}

}  // namespace

ClipImage::ClipImage(OfxImageClipHandle clip, OfxTime time) {
  if (clip == nullptr || effects().clipGetImage(clip, time, nullptr, &handle_) != kOfxStatOK) {
    handle_ = nullptr;
    return;
  }
  props().propGetPointer(handle_, kOfxImagePropData, 0, &data);
  props().propGetIntN(handle_, kOfxImagePropBounds, 4, &bounds.x1);
  int row = 0;
  props().propGetInt(handle_, kOfxImagePropRowBytes, 0, &row);
  row_bytes = row;
  depth = get_string(handle_, kOfxImageEffectPropPixelDepth);
  components = get_string(handle_, kOfxImageEffectPropComponents);
  premultiplication = get_string(handle_, kOfxImageEffectPropPreMultiplication);
  format = format_of(depth, components);
}

ClipImage::~ClipImage() {
  if (handle_ != nullptr) effects().clipReleaseImage(handle_);
}

std::string ClipImage::check(const char *clip_name) const {
  const std::string clip = std::string("the ") + clip_name + " image";
  if (handle_ == nullptr) return "the host gave no " + std::string(clip_name) + " image for this frame";
  if (data == nullptr) return clip + " has no pixels";
  if (format.dtype == nullptr) {
    return clip + " has bit depth '" + depth + "'; EmotionEdit takes 8-bit, 16-bit, half or float images";
  }
  if (format.components == 0) {
    return clip + " has components '" + components + "'; EmotionEdit edits RGB or RGBA images";
  }
  const long long width = static_cast<long long>(bounds.x2) - bounds.x1;
  const long long height = static_cast<long long>(bounds.y2) - bounds.y1;
  if (width <= 0 || height <= 0) return clip + " is empty";
  const long long packed = width * format.components * format.bytes_per_component;
  if (std::llabs(row_bytes) < packed) {
    return clip + " has " + std::to_string(row_bytes) + " bytes per row, fewer than its " + std::to_string(width) +
           " pixels need (" + std::to_string(packed) + ")";
  }
  return "";
}

}  // namespace ee
