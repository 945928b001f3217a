// The resampling kernel for half-float plates on CPUs with F16C (every x86-64 CPU since 2012): the
// conversions between half and float are single instructions here, where in portable code they took
// most of the time (half plates, the most common EXR, rendered 3x slower than float ones). Built with
// -mf16c; resample.cpp calls it only after asking the CPU. Same rule, same bits as the portable kernel
// (round to nearest even both ways; tests/engine/test_resample_kernel.py).

#include <immintrin.h>

#include "kernel.h"

namespace {

struct F16C {
  using Storage = uint16_t;
  static constexpr bool floating = true;
  static constexpr bool vector_io = true;
  static float load(Storage v) { return _cvtsh_ss(v); }
  static Storage store(float v) { return static_cast<Storage>(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT)); }
  static v4 load_vector(const Storage* p, int count) {
    uint64_t halves = 0;
    std::memcpy(&halves, p, sizeof(Storage) * count);
    return _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(halves)));
  }
  static void store_vector(Storage* p, v4 v, int count) {
    const __m128i halves = _mm_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
    const uint64_t bits = static_cast<uint64_t>(_mm_cvtsi128_si64(halves));
    std::memcpy(p, &bits, sizeof(Storage) * count);
  }
};

}  // namespace

int64_t emotionedit_kernel::resample_half_f16c(const Job& job, int threads) {
  return dispatch_channels<F16C>(job, threads);
}
