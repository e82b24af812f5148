/*
 * probe.c - what a Windows child really sees of an environment block.
 *
 *   probe.exe parent BLOCK QUERIES OUT
 *       Reads BLOCK (the raw bytes of a UTF-16-LE environment block, as
 *       envoverlay.winblock.environment_block() renders it), starts itself as
 *       "probe.exe child QUERIES OUT" with CreateProcessW(...,
 *       CREATE_UNICODE_ENVIRONMENT, lpEnvironment = the block, ...), waits for
 *       it, and copies the child's report (OUT) to its own standard output.
 *
 *   probe.exe child QUERIES OUT
 *       Writes a report to OUT: its whole environment block, verbatim, from
 *       GetEnvironmentStringsW, and for each name in QUERIES the result of
 *       GetEnvironmentVariableW.
 *
 * QUERIES holds UTF-16-LE names, each followed by one NUL code unit (the
 * caller computes every casing to try, so this program needs no case rules).
 *
 * The report is ASCII, one record per line; text is written as the hex of its
 * UTF-16 code units, four lower-case digits per unit, so any content (NUL,
 * '=', lone surrogates, line breaks) survives unchanged:
 *
 *   block <hex of every unit of the block, up to and including its final NUL>
 *   get <hex name> value <hex value>      (the variable exists; value may be empty)
 *   get <hex name> absent                 (ERROR_ENVVAR_NOT_FOUND)
 *   end
 *
 * Any failure prints a message to standard error and exits non-zero:
 *   2 usage, 3 I/O, 4 CreateProcessW failed, 5 the child failed, 6 an API failed.
 * File names should be plain relative names: the child inherits the current
 * directory.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

static void die(int code, const char *what, DWORD error)
{
    if (error)
        fprintf(stderr, "probe: %s (error %lu)\n", what, (unsigned long)error);
    else
        fprintf(stderr, "probe: %s\n", what);
    fflush(stderr);
    ExitProcess((UINT)code);
}

static void *xalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        die(6, "out of memory", 0);
    return p;
}

/* Whole file into memory; *size receives its length in bytes. */
static unsigned char *read_file(const wchar_t *path, DWORD *size)
{
    HANDLE h = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        die(3, "cannot open an input file", GetLastError());
    LARGE_INTEGER length;
    if (!GetFileSizeEx(h, &length) || length.QuadPart > 0x7fffffff)
        die(3, "cannot size an input file", GetLastError());
    DWORD total = (DWORD)length.QuadPart, done = 0;
    unsigned char *data = xalloc(total + 4);
    while (done < total) {
        DWORD got = 0;
        if (!ReadFile(h, data + done, total - done, &got, NULL))
            die(3, "cannot read an input file", GetLastError());
        if (got == 0)
            die(3, "input file shorter than its size", 0);
        done += got;
    }
    CloseHandle(h);
    memset(data + total, 0, 4);
    *size = total;
    return data;
}

static void write_all(HANDLE h, const void *data, DWORD size, const char *what)
{
    const char *p = data;
    while (size > 0) {
        DWORD put = 0;
        if (!WriteFile(h, p, size, &put, NULL) || put == 0)
            die(3, what, GetLastError());
        p += put;
        size -= put;
    }
}

/* ---- the report: a growable ASCII buffer ---- */
static char *out;
static size_t out_len, out_cap;

static void emit(const char *text, size_t len)
{
    if (out_len + len > out_cap) {
        size_t cap = out_cap ? out_cap : 65536;
        while (cap < out_len + len)
            cap *= 2;
        char *grown = realloc(out, cap);
        if (!grown)
            die(6, "out of memory", 0);
        out = grown;
        out_cap = cap;
    }
    memcpy(out + out_len, text, len);
    out_len += len;
}

static void emit_str(const char *text) { emit(text, strlen(text)); }

static void emit_hex(const wchar_t *units, size_t count)
{
    static const char digits[] = "0123456789abcdef";
    char four[4];
    for (size_t i = 0; i < count; i++) {
        unsigned u = units[i];
        four[0] = digits[(u >> 12) & 15];
        four[1] = digits[(u >> 8) & 15];
        four[2] = digits[(u >> 4) & 15];
        four[3] = digits[u & 15];
        emit(four, 4);
    }
}

static int child(const wchar_t *queries_path, const wchar_t *out_path)
{
    /* 1. The block, verbatim, up to and including its final NUL. */
    wchar_t *block = GetEnvironmentStringsW();
    if (!block)
        die(6, "GetEnvironmentStringsW failed", GetLastError());
    const wchar_t *p = block;
    while (*p)
        p += wcslen(p) + 1;
    size_t units = (size_t)(p - block) + 1; /* a single NUL if the block is empty */
    emit_str("block ");
    emit_hex(block, units);
    emit_str("\n");
    if (!FreeEnvironmentStringsW(block))
        die(6, "FreeEnvironmentStringsW failed", GetLastError());

    /* 2. GetEnvironmentVariableW for every queried name. */
    DWORD qsize;
    wchar_t *names = (wchar_t *)read_file(queries_path, &qsize);
    if (qsize % 2)
        die(2, "the queries file is not UTF-16 (odd length)", 0);
    size_t qunits = qsize / 2;
    DWORD cap = 32768; /* the documented maximum (32767) plus a NUL */
    wchar_t *value = xalloc(cap * sizeof(wchar_t));
    size_t start = 0;
    while (start < qunits) {
        const wchar_t *name = names + start;
        size_t len = wcsnlen(name, qunits - start);
        if (start + len >= qunits)
            die(2, "the queries file must end each name with a NUL", 0);
        DWORD got;
        for (;;) {
            SetLastError(ERROR_SUCCESS);
            got = GetEnvironmentVariableW(name, value, cap);
            if (got < cap)
                break;
            /* too small: got is the size needed, NUL included */
            cap = got > cap ? got : cap * 2;
            if (cap > 0x40000000)
                die(6, "GetEnvironmentVariableW keeps asking for more room", got);
            free(value);
            value = xalloc((size_t)cap * sizeof(wchar_t));
        }
        emit_str("get ");
        emit_hex(name, len);
        if (got == 0 && GetLastError() == ERROR_ENVVAR_NOT_FOUND) {
            emit_str(" absent\n");
        } else if (got == 0 && GetLastError() != ERROR_SUCCESS) {
            die(6, "GetEnvironmentVariableW failed", GetLastError());
        } else {
            emit_str(" value ");
            emit_hex(value, got);
            emit_str("\n");
        }
        start += len + 1;
    }
    emit_str("end\n");

    HANDLE h = CreateFileW(out_path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        die(3, "cannot create the report file", GetLastError());
    write_all(h, out, (DWORD)out_len, "cannot write the report file");
    if (!CloseHandle(h))
        die(3, "cannot close the report file", GetLastError());
    return 0;
}

static int parent(const wchar_t *block_path, const wchar_t *queries_path,
                  const wchar_t *out_path)
{
    DWORD size;
    unsigned char *block = read_file(block_path, &size);
    if (size < 4 || size % 2 || memcmp(block + size - 4, "\0\0\0\0", 4) != 0)
        die(2, "the block file must be UTF-16 ending in two NUL units", 0);

    wchar_t self[MAX_PATH + 1];
    DWORD n = GetModuleFileNameW(NULL, self, MAX_PATH + 1);
    if (n == 0 || n > MAX_PATH)
        die(6, "GetModuleFileNameW failed", GetLastError());

    size_t cmd_len = wcslen(self) + wcslen(queries_path) + wcslen(out_path) + 32;
    wchar_t *cmd = xalloc(cmd_len * sizeof(wchar_t)); /* CreateProcessW may write to it */
    if (_snwprintf(cmd, cmd_len, L"\"%ls\" child \"%ls\" \"%ls\"", self, queries_path,
                   out_path) < 0)
        die(6, "command line too long", 0);

    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    memset(&pi, 0, sizeof pi);
    if (!CreateProcessW(NULL, cmd, NULL, NULL, FALSE, CREATE_UNICODE_ENVIRONMENT, block, NULL,
                        &si, &pi))
        die(4, "CreateProcessW failed", GetLastError());
    if (WaitForSingleObject(pi.hProcess, INFINITE) != WAIT_OBJECT_0)
        die(6, "WaitForSingleObject failed", GetLastError());
    DWORD status;
    if (!GetExitCodeProcess(pi.hProcess, &status))
        die(6, "GetExitCodeProcess failed", GetLastError());
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    if (status != 0) {
        fprintf(stderr, "probe: the child exited with status %lu\n", (unsigned long)status);
        return 5;
    }

    DWORD report_size;
    unsigned char *report = read_file(out_path, &report_size);
    HANDLE std_out = GetStdHandle(STD_OUTPUT_HANDLE);
    if (std_out == INVALID_HANDLE_VALUE || std_out == NULL)
        die(3, "no standard output", GetLastError());
    write_all(std_out, report, report_size, "cannot write standard output");
    return 0;
}

int wmain(int argc, wchar_t **argv)
{
    if (argc == 5 && wcscmp(argv[1], L"parent") == 0)
        return parent(argv[2], argv[3], argv[4]);
    if (argc == 4 && wcscmp(argv[1], L"child") == 0)
        return child(argv[2], argv[3]);
    fprintf(stderr, "usage: probe.exe parent BLOCK QUERIES OUT | probe.exe child QUERIES OUT\n");
    return 2;
}
