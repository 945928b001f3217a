// The image effect suite: clips and images (the frame being rendered, in the scene's layout).
#include "host.h"

#include <cstdlib>
#include <string>

namespace testhost {

PropertySet *make_image(Frame &frame, bool source) {
  auto *image = new PropertySet();
  image->kind = source ? "source image" : "output image";
  std::vector<uint8_t> &buffer = source ? frame.src : frame.dst;
  void *data = frame.ofx_data(buffer);
  const unsigned long long device = source ? frame.device_src : frame.device_dst;
  if (device != 0) {  // cuda 2: the same layout in device memory
    data = reinterpret_cast<void *>(device + (static_cast<uint8_t *>(data) - buffer.data()));
  }
  image->set_pointer(kOfxImagePropData, data);
  image->set_int(kOfxImagePropBounds, {0, 0, g_scene.width, g_scene.height});
  image->set_int(kOfxImagePropRegionOfDefinition, {0, 0, g_scene.width, g_scene.height});
  image->set_int(kOfxImagePropRowBytes, {static_cast<int>(frame.row_bytes())});
  image->set_string(kOfxImageEffectPropPixelDepth, {g_scene.depth});
  image->set_string(kOfxImageEffectPropComponents, {g_scene.components});
  image->set_string(kOfxImageEffectPropPreMultiplication, {g_scene.premultiplication_value()});
  image->set_double(kOfxImageEffectPropRenderScale, {1.0, 1.0});
  image->set_double(kOfxImagePropPixelAspectRatio, {1.0});
  image->set_string(kOfxImagePropField, {kOfxImageFieldNone});
  image->set_string(kOfxImagePropUniqueIdentifier, {source ? "src" : "dst"});
  ++g_live_images;
  return image;
}

OfxStatus getPropertySet(OfxImageEffectHandle e, OfxPropertySetHandle *p) {
  *p = H(&reinterpret_cast<Effect *>(e)->props);
  return kOfxStatOK;
}
OfxStatus getParamSet(OfxImageEffectHandle e, OfxParamSetHandle *s) {
  *s = reinterpret_cast<OfxParamSetHandle>(&reinterpret_cast<Effect *>(e)->params);
  return kOfxStatOK;
}
OfxStatus clipDefine(OfxImageEffectHandle e, const char *name, OfxPropertySetHandle *props) {
  auto *effect = reinterpret_cast<Effect *>(e);
  auto clip = std::make_unique<Clip>();
  clip->name = name;
  clip->props.kind = std::string("clip ") + name;
  *props = H(&clip->props);
  effect->clips.push_back(std::move(clip));
  return kOfxStatOK;
}
OfxStatus clipGetHandle(OfxImageEffectHandle e, const char *name, OfxImageClipHandle *clip,
                        OfxPropertySetHandle *props) {
  Clip *c = reinterpret_cast<Effect *>(e)->find(name);
  if (c == nullptr) return kOfxStatErrUnknown;
  *clip = reinterpret_cast<OfxImageClipHandle>(c);
  if (props != nullptr) *props = H(&c->props);
  return kOfxStatOK;
}
OfxStatus clipGetPropertySet(OfxImageClipHandle clip, OfxPropertySetHandle *props) {
  *props = H(&reinterpret_cast<Clip *>(clip)->props);
  return kOfxStatOK;
}
OfxStatus clipGetImage(OfxImageClipHandle clip, OfxTime time, const OfxRectD *, OfxPropertySetHandle *image) {
  Clip *c = reinterpret_cast<Clip *>(clip);
  if (t_frame == nullptr) return kOfxStatFailed;
  if (time != t_time) {
    emit("ERROR clipGetImage at time " + std::to_string(time) + " while rendering " + std::to_string(t_time));
  }
  *image = H(make_image(*t_frame, c->name == kOfxImageEffectSimpleSourceClipName));
  return kOfxStatOK;
}
OfxStatus clipReleaseImage(OfxPropertySetHandle image) {
  delete P(image);
  --g_live_images;
  return kOfxStatOK;
}
OfxStatus clipGetRegionOfDefinition(OfxImageClipHandle, OfxTime, OfxRectD *bounds) {
  *bounds = {0.0, 0.0, static_cast<double>(g_scene.width), static_cast<double>(g_scene.height)};
  return kOfxStatOK;
}
int abortRender(OfxImageEffectHandle) {
  return 0;
}
OfxStatus imageMemoryAlloc(OfxImageEffectHandle, size_t n, OfxImageMemoryHandle *m) {
  *m = reinterpret_cast<OfxImageMemoryHandle>(std::malloc(n));
  return *m != nullptr ? kOfxStatOK : kOfxStatErrMemory;
}
OfxStatus imageMemoryFree(OfxImageMemoryHandle m) {
  std::free(m);
  return kOfxStatOK;
}
OfxStatus imageMemoryLock(OfxImageMemoryHandle m, void **p) {
  *p = m;
  return kOfxStatOK;
}
OfxStatus imageMemoryUnlock(OfxImageMemoryHandle) {
  return kOfxStatOK;
}

const OfxImageEffectSuiteV1 g_effect_suite = {
    getPropertySet,     getParamSet,      clipDefine,       clipGetHandle,
    clipGetPropertySet, clipGetImage,     clipReleaseImage, clipGetRegionOfDefinition,
    abortRender,        imageMemoryAlloc, imageMemoryFree,  imageMemoryLock,
    imageMemoryUnlock,
};

}  // namespace testhost
