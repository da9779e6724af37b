#include "dist_jni.h"

namespace jt {
namespace dist {

void throw_java(JNIEnv* env, const char* java_class, const std::string& message) {
    if (env->ExceptionCheck()) return;  // keep the first exception
    jclass cls = env->FindClass(java_class);
    if (cls == nullptr) return;  // NoClassDefFoundError is pending
    env->ThrowNew(cls, message.c_str());
    env->DeleteLocalRef(cls);
}

std::string utf8(JNIEnv* env, jstring s) {
    if (s == nullptr) return "";
    const char* c = env->GetStringUTFChars(s, nullptr);
    if (c == nullptr) return "";
    std::string out(c);
    env->ReleaseStringUTFChars(s, c);
    return out;
}

bool check_range(JNIEnv* env, const char* op, jint offset, jint length, jsize array_length) {
    if (offset < 0 || length < 0 || static_cast<long long>(offset) + length > array_length) {
        throw_illegal_argument(env, std::string(op) + ": offset " + std::to_string(offset) + " and length " +
                                        std::to_string(length) + " do not fit an array of " +
                                        std::to_string(array_length));
        return false;
    }
    return true;
}

}  // namespace dist
}  // namespace jt
