/* echo_uws.cpp - the uWebSockets peer of run_table.sh: an echo server on
 * one loop, no compression, messages up to 16 MiB, no idle timeout, so
 * it answers the same load as examples/echo_server. Not built by default
 * (uWebSockets is not in Debian): see tests/bench/README.md.
 *   echo_uws --host 127.0.0.1 --port 9001 */
#include "App.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char **argv)
{
    std::string host = "127.0.0.1";
    int port = 9001;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--host"))
            host = argv[i + 1];
        else if (!std::strcmp(argv[i], "--port"))
            port = std::atoi(argv[i + 1]);
    }
    struct Nothing {};
    uWS::App()
        .ws<Nothing>("/*", {.compression = uWS::DISABLED,
                            .maxPayloadLength = 16 * 1024 * 1024,
                            .idleTimeout = 0,
                            .maxBackpressure = 16 * 1024 * 1024,
                            .message =
                                [](auto *ws, std::string_view msg, uWS::OpCode op) {
                                    ws->send(msg, op, false);
                                }})
        .listen(host, port,
                [&](auto *ls) {
                    if (!ls) {
                        std::fprintf(stderr, "echo_uws: cannot listen on %d\n", port);
                        std::exit(1);
                    }
                })
        .run();
}
