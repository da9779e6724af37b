// test_util.h — checks and reporting for the native tests (tests/native/test_*.cpp, run by CTest).
//
//   #include "common.cuh"      // the CUDA API (emulated under g++)
//   #include "test_util.h"
//   int main() {
//       jt_test::DeviceBuffer<float> x(n);                 // cudaMalloc'ed, freed on scope exit
//       x.upload(host_vector);  ... launch ...  std::vector<float> y = out.download();
//       CHECK_CUDA(jt_family_op(...));                     // status must be cudaSuccess
//       CHECK_CLOSE(y[i], ref[i], 1e-5, 1e-6, "op n=7");   // |a-e| <= atol + rtol*|e|
//       CHECK_ALL_CLOSE(y, ref, 1e-5, 1e-6, "op n=7");     // whole arrays, reports the worst element
//       return jt_test::finish();                         // prints a summary; non-zero on failure
//   }
//
// Every failed check prints one line (file:line, what, the values) and counts; the test goes on, so
// one run shows every failure. Write the tolerance's reason beside each check.
#pragma once

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "device_error.h"

namespace jt_test {

struct Counters {
    long checks = 0;
    long failures = 0;
    int printed = 0;  // failure lines printed (capped, the count is not)
};
inline Counters& counters() {
    static Counters c;
    return c;
}
constexpr int kMaxPrinted = 50;

inline void report_failure(const char* file, int line, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
inline void report_failure(const char* file, int line, const char* fmt, ...) {
    Counters& c = counters();
    ++c.failures;
    if (c.printed++ >= kMaxPrinted) {
        if (c.printed == kMaxPrinted + 1) fprintf(stderr, "  ... (more failures not printed)\n");
        return;
    }
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

inline bool close_enough(double actual, double expected, double rtol, double atol) {
    if (isnan(expected)) return isnan(actual);
    if (isinf(expected)) return actual == expected;
    if (!isfinite(actual)) return false;
    return fabs(actual - expected) <= atol + rtol * fabs(expected);
}

inline bool check_close(double actual, double expected, double rtol, double atol, const std::string& what,
                        const char* file, int line) {
    ++counters().checks;
    if (close_enough(actual, expected, rtol, atol)) return true;
    report_failure(file, line, "%s: got %.9g, expected %.9g (|diff| %.3g > atol %.3g + rtol %.3g * |expected|)",
                   what.c_str(), actual, expected, fabs(actual - expected), atol, rtol);
    return false;
}

// Whole arrays: one check; on failure, the number of bad elements and the worst one.
template <class A, class E>
bool check_all_close(const A* actual, const E* expected, size_t n, double rtol, double atol, const std::string& what,
                     const char* file, int line) {
    ++counters().checks;
    size_t bad = 0, worst = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < n; ++i) {
        const double a = static_cast<double>(actual[i]), e = static_cast<double>(expected[i]);
        if (close_enough(a, e, rtol, atol)) continue;
        ++bad;
        const double excess = isfinite(a) ? fabs(a - e) - (atol + rtol * fabs(e)) : INFINITY;
        if (excess > worst_excess || bad == 1) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (bad == 0) return true;
    report_failure(file, line, "%s: %zu of %zu elements differ; worst [%zu]: got %.9g, expected %.9g (rtol %.3g, atol %.3g)",
                   what.c_str(), bad, n, worst, static_cast<double>(actual[worst]), static_cast<double>(expected[worst]),
                   rtol, atol);
    return false;
}
template <class A, class E>
bool check_all_close(const std::vector<A>& actual, const std::vector<E>& expected, double rtol, double atol,
                     const std::string& what, const char* file, int line) {
    if (actual.size() != expected.size()) {
        ++counters().checks;
        report_failure(file, line, "%s: size %zu, expected %zu", what.c_str(), actual.size(), expected.size());
        return false;
    }
    return check_all_close(actual.data(), expected.data(), actual.size(), rtol, atol, what, file, line);
}

inline bool check_true(bool ok, const char* expr, const std::string& what, const char* file, int line) {
    ++counters().checks;
    if (!ok) report_failure(file, line, "%s: %s is false", what.c_str(), expr);
    return ok;
}

inline bool check_status(cudaError_t got, cudaError_t expected, const char* expr, const char* file, int line) {
    ++counters().checks;
    if (got == expected) return true;
#ifdef JT_EMU
    const char* detail = jt_emu_last_error_detail();
#else
    const char* detail = "";
#endif
    report_failure(file, line, "%s returned %s (%s), expected %s%s%s", expr, cudaGetErrorName(got), cudaGetErrorString(got),
                   cudaGetErrorName(expected), detail && *detail ? "; detail: " : "", detail ? detail : "");
    return false;
}

// Prints the summary and returns main's exit status.
inline int finish(const char* name = nullptr) {
    const Counters& c = counters();
    printf("%s%s%ld checks, %ld failed\n", name ? name : "", name ? ": " : "", c.checks, c.failures);
    fflush(stdout);
    return c.failures == 0 && c.checks > 0 ? 0 : 1;
}

// ---- data ----------------------------------------------------------------------------------------

// Deterministic generator (SplitMix64), the same numbers on every machine.
struct Rng {
    uint64_t state;
    explicit Rng(uint64_t seed = 1) : state(seed) {}
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }          // [0, 1)
    float uniform(float lo, float hi) { return lo + static_cast<float>(uniform()) * (hi - lo); }
    double normal() {  // Box-Muller
        double u1 = uniform(), u2 = uniform();
        if (u1 < 1e-300) u1 = 1e-300;
        return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    }
    std::vector<float> uniform_vector(size_t n, float lo = -1.0f, float hi = 1.0f) {
        std::vector<float> v(n);
        for (auto& x : v) x = uniform(lo, hi);
        return v;
    }
};

// Float64 reference helpers.
inline std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// C[m x n] = A[m x k] * B[k x n] (row-major), in double.
inline std::vector<double> gemm_ref(const std::vector<float>& a, const std::vector<float>& b, int m, int n, int k) {
    std::vector<double> c(static_cast<size_t>(m) * n, 0.0);
    for (int i = 0; i < m; ++i)
        for (int p = 0; p < k; ++p) {
            const double aip = a[static_cast<size_t>(i) * k + p];
            for (int j = 0; j < n; ++j) c[static_cast<size_t>(i) * n + j] += aip * b[static_cast<size_t>(p) * n + j];
        }
    return c;
}

inline double sum_ref(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += x;
    return s;
}

// Device memory that frees itself. Copies are synchronous.
template <class T>
struct DeviceBuffer {
    T* ptr = nullptr;
    size_t n = 0;
    DeviceBuffer() = default;
    explicit DeviceBuffer(size_t count) : n(count) {
        if (cudaMalloc(reinterpret_cast<void**>(&ptr), count * sizeof(T)) != cudaSuccess) {
            report_failure(__FILE__, __LINE__, "cudaMalloc of %zu elements failed", count);
            ptr = nullptr;
            n = 0;
        }
    }
    explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept : ptr(o.ptr), n(o.n) { o.ptr = nullptr; o.n = 0; }
    ~DeviceBuffer() {
        if (ptr) cudaFree(ptr);
    }
    void upload(const std::vector<T>& host) {
        if (host.size() != n) report_failure(__FILE__, __LINE__, "upload of %zu elements into %zu", host.size(), n);
        else if (n) cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice);
    }
    std::vector<T> download() const {
        std::vector<T> host(n);
        if (n) cudaMemcpy(host.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost);
        return host;
    }
    void fill_bytes(int byte) {
        if (n) cudaMemset(ptr, byte, n * sizeof(T));
    }
    T* get() const { return ptr; }
    operator T*() const { return ptr; }
};

// The device error record of the value-checking kernels (kernels/device_error.h), zeroed at creation.
struct ErrorRecord {
    DeviceBuffer<JtDeviceError> buf{1};
    ErrorRecord() { clear(); }
    void clear() { buf.fill_bytes(0); }
    JtDeviceError read() const { return buf.download()[0]; }
    operator JtDeviceError*() const { return buf.ptr; }
};

// The record holds exactly this error: op code, smallest bad index, its value (int32-clamped), the number of
// bad values and the valid range's limit.
inline void check_device_error(const ErrorRecord& rec, int op, int64_t index, int32_t value, uint64_t count,
                               int64_t limit, const std::string& what, const char* file, int line) {
    const JtDeviceError r = rec.read();
    ++counters().checks;
    const int got_op = (int)(r.tag & 0xFF);
    const int64_t got_index = jt_device_error_index(r.first);
    const int32_t got_value = jt_device_error_value(r.first);
    if (r.tag == 0 || got_op != op || got_index != index || got_value != value || r.count != count ||
        (int64_t)r.limit != limit) {
        report_failure(file, line,
                       "%s: device error record is op %d (tag %llx) index %lld value %d count %llu limit %lld; expected "
                       "op %d index %lld value %d count %llu limit %lld",
                       what.c_str(), got_op, (unsigned long long)r.tag, (long long)got_index, got_value,
                       (unsigned long long)r.count, (long long)r.limit, op, (long long)index, value,
                       (unsigned long long)count, (long long)limit);
    }
}

// The record is all zero (good inputs record nothing).
inline void check_no_device_error(const ErrorRecord& rec, const std::string& what, const char* file, int line) {
    const JtDeviceError r = rec.read();
    ++counters().checks;
    if (r.tag != 0 || r.first != 0 || r.count != 0 || r.limit != 0) {
        report_failure(file, line, "%s: device error record set on good input: op %d index %lld value %d count %llu",
                       what.c_str(), (int)(r.tag & 0xFF), (long long)jt_device_error_index(r.first),
                       jt_device_error_value(r.first), (unsigned long long)r.count);
    }
}

}  // namespace jt_test

#define CHECK_DEVICE_ERROR(rec, op, index, value, count, limit, what) \
    ::jt_test::check_device_error((rec), (op), (index), (value), (count), (limit), (what), __FILE__, __LINE__)
#define CHECK_NO_DEVICE_ERROR(rec, what) ::jt_test::check_no_device_error((rec), (what), __FILE__, __LINE__)

#define JT_TEST_STR2(x) #x
#define JT_TEST_STR(x) JT_TEST_STR2(x)

// |actual - expected| <= atol + rtol * |expected| (NaN matches NaN, inf matches the same inf).
#define CHECK_CLOSE(actual, expected, rtol, atol, what) \
    ::jt_test::check_close(static_cast<double>(actual), static_cast<double>(expected), (rtol), (atol), (what), __FILE__, __LINE__)
// Arrays (pointers + count, or two std::vectors): one check, reports the worst element.
#define CHECK_ALL_CLOSE(actual, expected, rtol, atol, what) \
    ::jt_test::check_all_close((actual), (expected), (rtol), (atol), (what), __FILE__, __LINE__)
#define CHECK_ALL_CLOSE_N(actual, expected, n, rtol, atol, what) \
    ::jt_test::check_all_close((actual), (expected), (n), (rtol), (atol), (what), __FILE__, __LINE__)
#define CHECK(cond, what) ::jt_test::check_true(static_cast<bool>(cond), #cond, (what), __FILE__, __LINE__)
#define CHECK_EQ(actual, expected, what)                                                                       \
    do {                                                                                                       \
        const auto jt_a_ = (actual);                                                                           \
        const auto jt_e_ = (expected);                                                                         \
        ++::jt_test::counters().checks;                                                                        \
        if (!(jt_a_ == jt_e_))                                                                                 \
            ::jt_test::report_failure(__FILE__, __LINE__, "%s: %s = %lld, expected %lld", std::string(what).c_str(), \
                                      #actual, static_cast<long long>(jt_a_), static_cast<long long>(jt_e_));  \
    } while (0)
// A CUDA call must return cudaSuccess (prints the name, string and the emu's detail otherwise).
#define CHECK_CUDA(call) ::jt_test::check_status((call), cudaSuccess, #call, __FILE__, __LINE__)
// A CUDA call must return a given status.
#define CHECK_STATUS(call, expected) ::jt_test::check_status((call), (expected), #call, __FILE__, __LINE__)
