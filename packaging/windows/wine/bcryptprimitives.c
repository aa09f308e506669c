#include <windows.h>
/* For the Wine check only (scripts/check-dist-windows.sh): Debian's Wine 8 lacks
   bcryptprimitives.dll, from which Go 1.24+ programs call ProcessPrng at start. This stand-in
   fills the buffer from RtlGenRandom (advapi32's SystemFunction036). Windows 10 and 11 have
   the real DLL; nothing of this ships. */
typedef BOOLEAN (WINAPI *genrandom_t)(PVOID, ULONG);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    static genrandom_t gen;
    if (!gen) gen = (genrandom_t)GetProcAddress(LoadLibraryA("advapi32.dll"), "SystemFunction036");
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!gen || !gen(data, n)) return FALSE;
        data += n; len -= n;
    }
    return TRUE;
}
