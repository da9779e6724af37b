// Exception helpers shared by the JNI files of libjtrain_mpi.so (dev.jtrain.distributed's natives).
// Every helper leaves a pending Java exception; the entry point then returns at once. Nothing here
// exits or aborts the process.
#pragma once

#include <jni.h>

#include <string>

namespace jt {
namespace dist {

// Throws `java_class` (e.g. "dev/jtrain/distributed/MpiException") with `message`.
void throw_java(JNIEnv* env, const char* java_class, const std::string& message);

inline void throw_illegal_argument(JNIEnv* env, const std::string& message) {
    throw_java(env, "java/lang/IllegalArgumentException", message);
}

inline void throw_illegal_state(JNIEnv* env, const std::string& message) {
    throw_java(env, "java/lang/IllegalStateException", message);
}

// A Java String as UTF-8 (empty for null).
std::string utf8(JNIEnv* env, jstring s);

// Whether [offset, offset + length) lies in an array of `array_length`; throws and returns false if not.
bool check_range(JNIEnv* env, const char* op, jint offset, jint length, jsize array_length);

}  // namespace dist
}  // namespace jt
