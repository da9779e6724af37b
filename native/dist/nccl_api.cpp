// Run-time loading of NCCL (see nccl_api.h for the ABI and the lookup order).
#include "nccl_api.h"

#include <dlfcn.h>
#include <glob.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <mutex>
#include <type_traits>
#include <vector>

namespace jt {
namespace dist {

namespace {

constexpr const char* kSoname = "libnccl.so.2";

NcclApi g_api;
std::mutex g_mu;

bool is_dir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void note(std::string* tried, const std::string& what, const std::string& why) {
    if (!tried->empty()) *tried += "; ";
    *tried += what + ": " + why;
}

// Opens `path` and resolves the table into *api; on failure notes why in *tried.
bool try_open(const std::string& path, NcclApi* api, std::string* tried) {
    dlerror();
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* e = dlerror();
        std::string why = e ? e : "cannot open";
        if (why.compare(0, path.size() + 2, path + ": ") == 0) why = why.substr(path.size() + 2);
        note(tried, path, why);
        return false;
    }
    std::string missing;
    auto sym = [&](const char* name, auto* out) {
        *out = reinterpret_cast<std::remove_pointer_t<decltype(out)>>(dlsym(lib, name));
        if (*out == nullptr) missing += std::string(missing.empty() ? "" : ", ") + name;
    };
    NcclApi a;
    sym("ncclGetUniqueId", &a.GetUniqueId);
    sym("ncclCommInitRank", &a.CommInitRank);
    sym("ncclAllReduce", &a.AllReduce);
    sym("ncclCommDestroy", &a.CommDestroy);
    sym("ncclGetErrorString", &a.GetErrorString);
    sym("ncclCommGetAsyncError", &a.CommGetAsyncError);
    if (!missing.empty()) {
        note(tried, path, "not NCCL >= 2.4 (missing " + missing + ")");
        dlclose(lib);
        return false;
    }
    a.lib = lib;
    a.path = path;
    *api = a;
    return true;
}

// site-packages/nvidia/nccl/lib/libnccl.so.2 of the usual Python roots (as vendor.cpp does for cuBLAS).
std::vector<std::string> wheel_candidates() {
    std::vector<std::string> roots;
    if (const char* v = getenv("PYTHONPATH")) {
        std::string s(v);
        for (size_t start = 0; start <= s.size();) {
            size_t colon = s.find(':', start);
            std::string part = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
            if (!part.empty()) roots.push_back(part);
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
    }
    if (const char* v = getenv("VIRTUAL_ENV")) roots.push_back(std::string(v) + "/lib/python3*/site-packages");
    if (const char* v = getenv("CONDA_PREFIX")) roots.push_back(std::string(v) + "/lib/python3*/site-packages");
    if (const char* v = getenv("HOME")) roots.push_back(std::string(v) + "/.local/lib/python3*/site-packages");
    roots.push_back("/usr/local/lib/python3*/site-packages");
    roots.push_back("/usr/local/lib/python3*/dist-packages");
    roots.push_back("/usr/lib/python3/dist-packages");
    std::vector<std::string> found;
    for (const std::string& root : roots) {
        glob_t g;
        if (glob((root + "/nvidia/nccl/lib/" + kSoname).c_str(), 0, nullptr, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; ++i) found.push_back(g.gl_pathv[i]);
        }
        globfree(&g);
    }
    return found;
}

}  // namespace

std::string nccl_open(const std::string& explicit_path) {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_api.lib != nullptr) return "";
    std::string tried;
    std::string only = explicit_path;
    const char* source = "only the given path was tried";
    if (only.empty()) {
        if (const char* env = getenv("JTRAIN_NCCL"); env != nullptr && *env != '\0') {
            only = env;
            source = "JTRAIN_NCCL is set, so only it was tried";
        }
    }
    if (!only.empty()) {
        std::string file = is_dir(only) ? only + "/" + kSoname : only;
        if (try_open(file, &g_api, &tried)) return "";
        return std::string(source) + ": " + tried;
    }
    if (try_open(kSoname, &g_api, &tried)) return "";
    std::vector<std::string> wheels = wheel_candidates();
    for (const std::string& p : wheels) {
        if (try_open(p, &g_api, &tried)) return "";
    }
    if (wheels.empty()) note(&tried, "Python wheels", "no site-packages/nvidia/nccl/lib holds it");
    return tried;
}

const NcclApi& nccl() { return g_api; }

std::string nccl_error_message(const char* call, ncclResult_t rc) {
    std::string msg = call;
    const char* s = g_api.GetErrorString != nullptr ? g_api.GetErrorString(rc) : nullptr;
    msg += ": ";
    msg += s != nullptr ? s : "NCCL error";
    msg += " (ncclResult_t " + std::to_string(rc) + ")";
    return msg;
}

}  // namespace dist
}  // namespace jt
