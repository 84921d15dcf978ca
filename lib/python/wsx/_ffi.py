"""_ffi.py - the public C ABI of libwsx (include/wsx.h, include/wsx_deflate.h)
as cffi declarations in ABI mode, and the search for libwsx.so.

Only what the binding calls is declared; where C says `uint8_t *` for
bytes handed to Python, `char *` is declared (the same representation) so
that ffi.unpack makes bytes without a cast. Structs whose layout Python must
know are copied field for field from the headers; each of them carries a
`size` field that wsx's init functions read (ABI growth), and
tests/python/test_layout.py compares every size and offset here with the C
compiler's, so a change to the header is caught.
"""
import os

from cffi import FFI

CDEF = """
const char *wsx_version(void);
const char *wsx_strerror(int err);
const char *wsx_errname(int err);

typedef struct wsx_frame_header {
    bool fin;
    uint8_t rsv;
    uint8_t opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t length;
} wsx_frame_header;

int wsx_frame_parse(wsx_frame_header *h, const uint8_t *p, size_t len);

typedef struct wsx_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} wsx_header;

typedef struct wsx_http_request {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    int version_minor;
    wsx_header *headers;
    size_t num_headers;
} wsx_http_request;

typedef struct wsx_http_response {
    int version_minor;
    int status;
    const char *reason;
    size_t reason_len;
    wsx_header *headers;
    size_t num_headers;
} wsx_http_response;

typedef struct wsx_client_opts {
    const char *host;
    const char *path;
    const char *origin;
    const char *protocols;
    const char *extensions;
    const char *extra_headers;
} wsx_client_opts;

typedef struct wsx_allocator {
    void *(*malloc)(size_t size, void *user);
    void *(*realloc)(void *ptr, size_t old_size, size_t new_size, void *user);
    void (*free)(void *ptr, size_t size, void *user);
    void *user;
} wsx_allocator;

typedef struct wsx_extension wsx_extension;
typedef struct wsx_conn wsx_conn;

typedef struct wsx_rate {
    uint32_t per_sec;
    uint32_t burst;
} wsx_rate;

typedef struct wsx_config {
    size_t size;
    int role;
    size_t max_frame_size;
    size_t max_message_size;
    size_t max_header_size;
    size_t high_water;
    size_t low_water;
    uint32_t handshake_timeout_ms;
    uint32_t ping_interval_ms;
    uint32_t idle_timeout_ms;
    uint32_t close_timeout_ms;
    bool streaming;
    wsx_allocator alloc;
    wsx_client_opts client;
    const wsx_extension *extension;
    const void *extension_config;
    void *metrics; /* wsx_metrics *, unused here */
    wsx_rate message_rate;
    wsx_rate byte_rate;
    wsx_rate control_rate;
    uint32_t max_fragments;
    int quota_policy;
    const char *const *origins;
    bool origin_required;
    const struct wsx_guard_ops *guards;
    size_t transport_size;
} wsx_config;

void wsx_config_init_(wsx_config *cfg, size_t size, int role);

typedef struct wsx_message {
    int opcode;
    const char *data; /* uint8_t in C: char lets ffi.unpack make bytes */
    size_t len;
    bool first;
    bool fin;
} wsx_message;

typedef struct wsx_close_info {
    uint16_t code;
    const char *reason;
    size_t reason_len;
    bool clean;
    bool remote;
    int error;
    uint16_t http_status;
} wsx_close_info;

typedef struct wsx_handshake {
    const wsx_http_request *request;
    const wsx_http_response *response;
} wsx_handshake;

typedef struct wsx_handshake_reply {
    const char *protocol;
    const char *extra_headers;
    const void *body;
    size_t body_len;
} wsx_handshake_reply;

typedef struct wsx_iovec {
    const void *base;
    size_t len;
} wsx_iovec;

typedef struct wsx_callbacks {
    size_t size;
    long (*send)(wsx_conn *c, const uint8_t *p, size_t len, void *user);
    int (*random)(wsx_conn *c, uint8_t *buf, size_t len, void *user);
    int (*on_handshake)(wsx_conn *c, const wsx_handshake *hs,
                        wsx_handshake_reply *reply, void *user);
    void (*on_http)(wsx_conn *c, const wsx_http_request *req, void *user);
    void (*on_open)(wsx_conn *c, void *user);
    void (*on_message)(wsx_conn *c, const wsx_message *m, void *user);
    void (*on_fragment)(wsx_conn *c, const wsx_message *m, void *user);
    void (*on_ping)(wsx_conn *c, const uint8_t *p, size_t len, void *user);
    void (*on_pong)(wsx_conn *c, const uint8_t *p, size_t len, void *user);
    void (*on_close)(wsx_conn *c, const wsx_close_info *ci, void *user);
    void (*on_drain)(wsx_conn *c, void *user);
    size_t (*queued)(const wsx_conn *c, void *user);
    long (*sendv)(wsx_conn *c, const wsx_iovec *iov, int n, void *user);
} wsx_callbacks;

void wsx_callbacks_init_(wsx_callbacks *cb, size_t size);

wsx_conn *wsx_conn_new(const wsx_config *cfg, const wsx_callbacks *cb,
                       void *user);
void wsx_conn_free(wsx_conn *c);
int wsx_conn_feed(wsx_conn *c, uint8_t *buf, size_t len);
void wsx_conn_eof(wsx_conn *c);
uint64_t wsx_conn_tick(wsx_conn *c, uint64_t now_ms);
size_t wsx_conn_pending(wsx_conn *c, const char **p); /* uint8_t in C */
void wsx_conn_advance(wsx_conn *c, size_t n);
int wsx_conn_state(const wsx_conn *c);
bool wsx_conn_wants_write(const wsx_conn *c);
bool wsx_conn_done(const wsx_conn *c);
const char *wsx_conn_protocol(const wsx_conn *c);
int wsx_conn_error(const wsx_conn *c);
int wsx_send(wsx_conn *c, int op, const void *data, size_t len);
int wsx_send_fragment(wsx_conn *c, int op, const void *data, size_t len,
                      bool fin);
int wsx_ping(wsx_conn *c, const void *data, size_t len);
int wsx_close(wsx_conn *c, uint16_t code, const char *reason);
size_t wsx_buffered_amount(const wsx_conn *c);
bool wsx_close_code_valid(uint16_t code);

typedef struct wsx_deflate_config {
    size_t size;
    bool server_no_context_takeover;
    bool client_no_context_takeover;
    int server_max_window_bits;
    int client_max_window_bits;
    int level;
    int mem_level;
    size_t threshold;
} wsx_deflate_config;

void wsx_deflate_config_init_(wsx_deflate_config *c, size_t size);
const wsx_extension *wsx_permessage_deflate(void);
"""

# The structs tests/python/test_layout.py checks against the C compiler.
MIRRORED = ("wsx_frame_header", "wsx_header", "wsx_http_request", "wsx_http_response",
            "wsx_client_opts", "wsx_allocator", "wsx_config", "wsx_message",
            "wsx_close_info", "wsx_handshake", "wsx_handshake_reply",
            "wsx_iovec", "wsx_callbacks", "wsx_deflate_config")

SONAME = "libwsx.so.0"


def candidates():
    """Where libwsx is looked for, in order: $WSX_LIBRARY (a file), a copy
    installed beside the package, the source tree's build/ (so examples
    run after `make` without installing; $WSX_BUILD names another build
    directory), then the dynamic loader's own search (LD_LIBRARY_PATH,
    ldconfig) by soname."""
    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ.get("WSX_LIBRARY")
    if env:
        yield env
    for name in (SONAME, "libwsx.so"):
        yield os.path.join(here, name)
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    build = os.environ.get("WSX_BUILD", "build")
    if not os.path.isabs(build):
        build = os.path.join(root, build)
    yield os.path.join(build, SONAME)
    yield SONAME


def load():
    ffi = FFI()
    ffi.cdef(CDEF)
    tried = []
    for path in candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            return ffi, ffi.dlopen(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("wsx: libwsx.so not found; build it with `make` or set "
                      "WSX_LIBRARY. Tried: " + "; ".join(tried))


ffi, lib, LIBRARY_PATH = load()
