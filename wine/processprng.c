/*
 * bcryptprimitives.dll for Wine 8: exports ProcessPrng, which the Go 1.22+
 * runtime on Windows loads at start-up (runtime/os_windows.go) and which Wine
 * 8 does not have. Built by run.sh with mingw-w64 and copied into the Wine
 * prefix's system32; used only to run closematrix's Windows test binaries
 * under Wine (DESIGN §7), never shipped.
 *
 * ProcessPrng (learn.microsoft.com, "ProcessPrng function"):
 *     BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData);
 * fills pbData with cbData random bytes and always returns TRUE.
 * It is implemented on RtlGenRandom, exported by advapi32 as
 * SystemFunction036 (ntsecapi.h: BOOLEAN RtlGenRandom(PVOID, ULONG)), which
 * Wine implements on the host's random source.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Built without the C runtime (-nostdlib): this is the entry point. */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance; (void)reason; (void)reserved;
    return TRUE;
}

BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)
{
    /* RtlGenRandom takes a ULONG length: feed SIZE_T requests in chunks. */
    while (cbData > 0) {
        ULONG chunk = cbData > 0x40000000 ? 0x40000000 : (ULONG)cbData;
        if (!SystemFunction036(pbData, chunk))
            return FALSE;
        pbData += chunk;
        cbData -= chunk;
    }
    return TRUE;
}
