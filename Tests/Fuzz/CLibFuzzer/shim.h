#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry for programs with their own main (LLVM 12 and later); linked by -sanitize=fuzzer. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

/* Defined by each fuzz target (with @_cdecl). */
int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size);
