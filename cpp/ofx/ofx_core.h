/* EmotionEdit's own declarations of the OpenFX 1.5 C ABI: core types, status codes,
 * the host and plugin structs. Written from the specification's facts as recorded in
 * docs/ofx-node.md (not copied from the official headers). Plain C, so the project's
 * test host and the plugin share one definition of the ABI. */
#ifndef EMOTIONEDIT_OFX_CORE_H
#define EMOTIONEDIT_OFX_CORE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int OfxStatus;
typedef double OfxTime;

/* Opaque handles: the host owns what they point to. */
typedef struct OfxPropertySetStruct *OfxPropertySetHandle;
typedef struct OfxImageEffectStruct *OfxImageEffectHandle;
typedef struct OfxImageClipStruct *OfxImageClipHandle;
typedef struct OfxParamSetStruct *OfxParamSetHandle;
typedef struct OfxParamStruct *OfxParamHandle;
typedef struct OfxImageMemoryStruct *OfxImageMemoryHandle;
typedef struct OfxMutex *OfxMutexHandle;

typedef struct OfxHost {
  OfxPropertySetHandle host;
  const void *(*fetchSuite)(OfxPropertySetHandle host, const char *suiteName, int suiteVersion);
} OfxHost;

typedef OfxStatus(OfxPluginEntryPoint)(const char *action, const void *handle, OfxPropertySetHandle inArgs,
                                       OfxPropertySetHandle outArgs);

typedef struct OfxPlugin {
  const char *pluginApi;
  int apiVersion;
  const char *pluginIdentifier;
  unsigned int pluginVersionMajor;
  unsigned int pluginVersionMinor;
  void (*setHost)(OfxHost *host);
  OfxPluginEntryPoint *mainEntry;
} OfxPlugin;

typedef struct OfxRangeI {
  int min, max;
} OfxRangeI;
typedef struct OfxRangeD {
  double min, max;
} OfxRangeD;
typedef struct OfxPointI {
  int x, y;
} OfxPointI;
typedef struct OfxPointD {
  double x, y;
} OfxPointD;
typedef struct OfxRectI {
  int x1, y1, x2, y2;
} OfxRectI;
typedef struct OfxRectD {
  double x1, y1, x2, y2;
} OfxRectD;

typedef struct OfxRGBAColourB {
  unsigned char r, g, b, a;
} OfxRGBAColourB;
typedef struct OfxRGBAColourS {
  unsigned short r, g, b, a;
} OfxRGBAColourS;
typedef struct OfxRGBAColourF {
  float r, g, b, a;
} OfxRGBAColourF;
typedef struct OfxRGBAColourD {
  double r, g, b, a;
} OfxRGBAColourD;

/* Status codes. */
#define kOfxStatOK 0
#define kOfxStatFailed 1
#define kOfxStatErrFatal 2
#define kOfxStatErrUnknown 3
#define kOfxStatErrMissingHostFeature 4
#define kOfxStatErrUnsupported 5
#define kOfxStatErrExists 6
#define kOfxStatErrFormat 7
#define kOfxStatErrMemory 8
#define kOfxStatErrBadHandle 9
#define kOfxStatErrBadIndex 10
#define kOfxStatErrValue 11
#define kOfxStatReplyYes 12
#define kOfxStatReplyNo 13
#define kOfxStatReplyDefault 14 /* what to return for an action the plugin does not handle */
#define kOfxStatUnlicensed 15
#define kOfxStatErrImageFormat 1000
#define kOfxStatGPUOutOfMemory 1001
#define kOfxStatGLOutOfMemory 1001
#define kOfxStatGPURenderFailed 1002
#define kOfxStatGLRenderFailed 1002

/* Entry points a plugin binary exports with C linkage (OfxSetHost is optional, since 1.5). */
typedef int (*OfxGetNumberOfPluginsFunc)(void);
typedef OfxPlugin *(*OfxGetPluginFunc)(int nth);
typedef OfxStatus (*OfxSetHostFunc)(const OfxHost *host);

#ifdef __cplusplus
}
#endif

#endif /* EMOTIONEDIT_OFX_CORE_H */
