/* The C interface between the OFX node (EmotionEdit.ofx, which never links Python) and
 * the Python bridge (EmotionEditPython.so, which embeds CPython through pybind11).
 *
 * Why two libraries: the node must load in every host, including hosts that run their
 * own, different Python (Nuke, Natron). Only after checking the process does the node
 * load the bridge, and with it libpython. Both are built together; the ABI number
 * below guards against mixing builds.
 *
 * Threading: every function here is called on the node's single Python worker thread,
 * never on a host thread. Ownership: every pointer in a request belongs to the caller
 * and stays valid until the call returns.
 *
 * Host memory: a render thread may give up on a frame at its time limit and return to
 * the host, which then frees its images while the engine may still be working. So the
 * engine never holds the host's memory. A CPU render runs in two phases: prepare() plans
 * the frame without the host's pixels and says which rectangles the pixel phase reads
 * and writes (EERegions); the render thread then copies the source's read rectangle into
 * a private buffer, render_region() writes the write rectangle into another, and the
 * render thread copies the render window (the background) and that rectangle into the
 * host's output, only if the frame finished within its limit. A CUDA render uses the
 * host's device memory, but only between host_access(context, 1) returning 1 and
 * host_access(context, 0); the render thread waits for that, and once it has given up,
 * host_access(context, 1) returns 0. */
#ifndef EMOTIONEDIT_BRIDGE_API_H
#define EMOTIONEDIT_BRIDGE_API_H

#ifdef __cplusplus
extern "C" {
#endif

#define EE_BRIDGE_ABI 3
#define EE_BRIDGE_ENTRY "ee_bridge_api"

enum EEValueKind { EE_INT = 0, EE_DOUBLE = 1, EE_STRING = 2 };

/* One parameter value, read by the node at the render time. */
typedef struct EEValue {
  const char *name;
  int kind;
  long long i;
  double d;
  const char *s;
} EEValue;

/* An image as the host gave it: OFX pixel coordinates, y up, rows may run backwards
 * (negative row_bytes). On a CUDA render, data is a device pointer. */
typedef struct EEImage {
  void *data;
  int x1, y1, x2, y2;
  long long row_bytes;
} EEImage;

typedef struct EEFrame {
  double time;
  const EEValue *values;
  int value_count;
  const char *dtype; /* numpy name: "uint8", "uint16", "float16", "float32" */
  int components;    /* 3 (RGB) or 4 (RGBA) */
  const char *premultiplication;
  /* The source's and the output's bounds. Their data: on a CUDA render the host's device
   * pointers; on a CPU render NULL, except src in preview mode (no Analysis File: tracking
   * needs the frame), where it is the node's private copy of the whole source. */
  EEImage src;
  EEImage dst;
  int window[4]; /* x1, y1, x2, y2: the render window, inside dst's bounds */
  double render_scale[2];
  int cuda;          /* 1: data pointers are the host's CUDA device pointers */
  void *cuda_stream; /* the host's cudaStream_t, or NULL (then finish before returning) */
  /* CUDA only: enter (1) or leave (0) the part of the render that uses the host's device
   * memory; entering returns 0 when the host has given up on the frame (see above). */
  int (*host_access)(void *context, int enter);
  void *host_access_context;
} EEFrame;

enum EELevel { EE_LEVEL_NONE = 0, EE_LEVEL_WARNING = 1, EE_LEVEL_ERROR = 2 };

/* What prepare() decided for a CPU render: OFX rectangles (x1, y1, x2, y2; x1 == x2 for none). */
enum EEBackground { EE_BACKGROUND_SOURCE = 0, EE_BACKGROUND_ZERO = 1 };
typedef struct EERegions {
  int read[4];    /* the source's pixels render_region() reads, inside src's bounds (none: it reads none) */
  int write[4];   /* the output's pixels it writes, inside the window (none: no pixel phase) */
  int background; /* the rest of the window: the source's pixels, or 0 (0 anyway where it is past the source) */
} EERegions;

#define EE_MESSAGE_BYTES 4096

/* What a call did: an OFX status, and a message for the node's persistent message. */
typedef struct EEResult {
  int status;
  int level;
  char message[EE_MESSAGE_BYTES];
} EEResult;

typedef struct EEBridgeConfig {
  int abi;
  const char *python;      /* the engine environment's interpreter (a venv's bin/python) */
  const char *python_path; /* ':'-separated folders put first on sys.path (may be empty) */
  const char *module;      /* the Python module the node drives, normally "emotionedit.node" */
} EEBridgeConfig;

/* start: 0 = ready; 1 = failed but may be retried (nothing was initialised);
 * 2 = failed for the life of the process (the interpreter cannot be used here). */
enum EEStart { EE_START_READY = 0, EE_START_RETRY = 1, EE_START_FATAL = 2 };

typedef struct EEBridgeApi {
  int abi;
  int (*start)(const EEBridgeConfig *config, EEResult *result);
  /* Everything that needs no host pixels (load the analysis, build the editor, plan the
   * frame). Returns a plan, with result holding the plan's messages so far and, on a CPU
   * render, regions filled in; or NULL with result filled in (a failed status). regions is
   * NULL on a CUDA render. */
  void *(*prepare)(const EEFrame *frame, EERegions *regions, EEResult *result);
  /* CUDA renders: the whole images, under host_access. Returns result->status. */
  int (*render)(void *plan, const EEFrame *frame, EEResult *result);
  /* CPU renders, the pixel phase: read holds the source's pixels of regions->read (data NULL
   * when the plan reads none), write receives the output's pixels of regions->write; both are
   * the node's private memory. Returns result->status; on a failed status write holds nothing
   * usable. */
  int (*render_region)(void *plan, const EEFrame *frame, const EEImage *read, const EEImage *write, EEResult *result);
  void (*release)(void *plan);
  void (*purge)(void);
} EEBridgeApi;

typedef const EEBridgeApi *(*EEBridgeEntry)(void);

#ifdef __cplusplus
}
#endif

#endif /* EMOTIONEDIT_BRIDGE_API_H */
