// The message, memory and multithread suites, the host's description and fetchSuite.
#include "host.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace testhost {

void print_message(const char *kind, const char *type, const char *format, va_list ap) {
  char text[8192];
  std::vsnprintf(text, sizeof text, format, ap);
  emit(std::string("MESSAGE time=") + std::to_string(t_time) + " kind=" + kind + " type=" + type +
       " text=" + one_line(text));
}
OfxStatus message(void *, const char *type, const char *, const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  print_message("message", type, format, ap);
  va_end(ap);
  return kOfxStatOK;
}
OfxStatus setPersistentMessage(void *handle, const char *type, const char *, const char *format, ...) {
  va_list ap, again;
  va_start(ap, format);
  va_copy(again, ap);
  print_message("persistent", type, format, ap);
  va_end(ap);
  char text[8192];
  std::vsnprintf(text, sizeof text, format, again);
  va_end(again);
  auto *effect = static_cast<Effect *>(handle);  // the handle is the instance
  std::lock_guard<std::mutex> lock(effect->message_mutex);
  effect->standing = std::string(type) + ": " + text;
  return kOfxStatOK;
}
OfxStatus clearPersistentMessage(void *handle) {
  emit("CLEAR time=" + std::to_string(t_time));
  auto *effect = static_cast<Effect *>(handle);
  std::lock_guard<std::mutex> lock(effect->message_mutex);
  effect->standing.clear();
  return kOfxStatOK;
}
const OfxMessageSuiteV1 g_message_v1 = {message};
const OfxMessageSuiteV2 g_message_v2 = {message, setPersistentMessage, clearPersistentMessage};

OfxStatus memoryAlloc(void *, size_t n, void **p) {
  *p = std::malloc(n);
  return *p != nullptr ? kOfxStatOK : kOfxStatErrMemory;
}
OfxStatus memoryFree(void *p) {
  std::free(p);
  return kOfxStatOK;
}
const OfxMemorySuiteV1 g_memory_suite = {memoryAlloc, memoryFree};

OfxStatus multiThread(OfxThreadFunctionV1 func, unsigned n, void *arg) {
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < n; ++i) pool.emplace_back(func, i, n, arg);
  for (auto &t : pool) t.join();
  return kOfxStatOK;
}
OfxStatus multiThreadNumCPUs(unsigned *n) {
  *n = std::thread::hardware_concurrency();
  return kOfxStatOK;
}
OfxStatus multiThreadIndex(unsigned *i) {
  *i = 0;
  return kOfxStatOK;
}
int multiThreadIsSpawnedThread() {
  return 0;
}
OfxStatus mutexCreate(OfxMutexHandle *m, int) {
  *m = reinterpret_cast<OfxMutexHandle>(new std::recursive_mutex());
  return kOfxStatOK;
}
OfxStatus mutexDestroy(const OfxMutexHandle m) {
  delete reinterpret_cast<std::recursive_mutex *>(m);
  return kOfxStatOK;
}
OfxStatus mutexLock(const OfxMutexHandle m) {
  reinterpret_cast<std::recursive_mutex *>(m)->lock();
  return kOfxStatOK;
}
OfxStatus mutexUnLock(const OfxMutexHandle m) {
  reinterpret_cast<std::recursive_mutex *>(m)->unlock();
  return kOfxStatOK;
}
OfxStatus mutexTryLock(const OfxMutexHandle m) {
  return reinterpret_cast<std::recursive_mutex *>(m)->try_lock() ? kOfxStatOK : kOfxStatFailed;
}
const OfxMultiThreadSuiteV1 g_thread_suite = {
    multiThread, multiThreadNumCPUs, multiThreadIndex, multiThreadIsSpawnedThread, mutexCreate, mutexDestroy,
    mutexLock,   mutexUnLock,        mutexTryLock,
};

PropertySet g_host_props;

const void *fetchSuite(OfxPropertySetHandle, const char *name, int version) {
  const std::string n = name;
  if (n == kOfxPropertySuite && version == 1) return &g_property_suite;
  if (n == kOfxImageEffectSuite && version == 1) return &g_effect_suite;
  if (n == kOfxParameterSuite && version == 1) return &g_parameter_suite;
  if (n == kOfxMemorySuite && version == 1) return &g_memory_suite;
  if (n == kOfxMultiThreadSuite && version == 1) return &g_thread_suite;
  if (n == kOfxMessageSuite && version == 1) return &g_message_v1;
  if (n == kOfxMessageSuite && version == 2) return &g_message_v2;
  ++g_unknown_suites;
  return nullptr;
}

OfxHost g_host = {nullptr, fetchSuite};

void describe_host() {
  PropertySet &h = g_host_props;
  h.kind = "host";
  h.set_string(kOfxPropName, {"io.emotionedit.TestHost"});
  h.set_string(kOfxPropLabel, {"EmotionEdit test host"});
  h.set_int(kOfxPropAPIVersion, {1, 5});
  h.set_int(kOfxImageEffectHostPropIsBackground, {1});
  h.set_string(kOfxImageEffectPropSupportedContexts, {kOfxImageEffectContextFilter});
  h.set_string(kOfxImageEffectPropSupportedPixelDepths,
               {kOfxBitDepthByte, kOfxBitDepthShort, kOfxBitDepthHalf, kOfxBitDepthFloat});
  h.set_string(kOfxImageEffectPropSupportedComponents, {kOfxImageComponentRGBA, kOfxImageComponentRGB});
  h.set_string(kOfxImageEffectHostPropNativeOrigin, {kOfxHostNativeOriginBottomLeft});
  h.set_int(kOfxImageEffectPropSupportsMultiResolution, {0});
  h.set_int(kOfxImageEffectPropSupportsTiles, {0});
  h.set_int(kOfxImageEffectPropTemporalClipAccess, {0});
  h.set_int(kOfxImageEffectPropSupportsMultipleClipDepths, {0});
  h.set_int(kOfxParamHostPropSupportsChoiceAnimation, {1});
  h.set_int(kOfxParamHostPropSupportsBooleanAnimation, {1});
  h.set_int(kOfxParamHostPropSupportsStringAnimation, {0});
  h.set_int(kOfxParamHostPropMaxParameters, {-1});
  for (const char *gpu : {kOfxImageEffectPropOpenGLRenderSupported, kOfxImageEffectPropCudaRenderSupported,
                          kOfxImageEffectPropCudaStreamSupported, kOfxImageEffectPropMetalRenderSupported,
                          kOfxImageEffectPropOpenCLRenderSupported}) {
    h.set_string(gpu, {"false"});
  }
  g_host.host = H(&g_host_props);
}

}  // namespace testhost
