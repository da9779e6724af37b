// Filling a jt_vendor_status (vendor_ops.h): shared by cublas_ops.cpp and cudnn_ops.cpp. Internal.
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vendor_ops.h"

namespace jt {
namespace vendor {

// A status that is always writable: the caller's, or a local one when the caller passed null.
class StatusOut {
public:
    explicit StatusOut(jt_vendor_status* st) : st_(st != nullptr ? st : &local_) { clear(); }
    jt_vendor_status* get() const { return st_; }
    int code() const { return st_->code; }

    int ok() {
        clear();
        return JT_VENDOR_OK;
    }

    // Sets code, library status, call and status name, and a printf-style message; returns the code.
    int set(int code, int library_status, const char* call, const char* name, const char* fmt, ...)
        __attribute__((format(printf, 6, 7))) {
        st_->code = code;
        st_->library_status = library_status;
        copy(st_->call, sizeof st_->call, call);
        copy(st_->name, sizeof st_->name, name);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st_->message, sizeof st_->message, fmt, ap);
        va_end(ap);
        return code;
    }

    int invalid(const char* op, const char* what) {
        return set(JT_VENDOR_INVALID, 0, "", "", "%s: %s", op, what);
    }

private:
    static void copy(char* dst, size_t cap, const char* src) {
        if (src == nullptr) src = "";
        snprintf(dst, cap, "%s", src);
    }
    void clear() {
        st_->code = JT_VENDOR_OK;
        st_->library_status = 0;
        st_->call[0] = '\0';
        st_->name[0] = '\0';
        st_->message[0] = '\0';
    }

    jt_vendor_status local_{};
    jt_vendor_status* st_;
};

}  // namespace vendor
}  // namespace jt
