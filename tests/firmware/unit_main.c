/* unit_main.c - runs one portable unit test of tests/unit (compiled with
 * -Dmain=wsx_unit_main) on the target: the emulator is slow, so the test
 * sees WSX_QUICK in its environment, as under valgrind or qemu-user. */
#include <stdio.h>

#include "fw.h"

extern char **environ;
int wsx_unit_main(void);

int main(void)
{
    static char quick[] = "WSX_QUICK=1";
    static char *env[] = {quick, NULL};
    environ = env;
    int st = wsx_unit_main();
    printf("stack used: %u of %u bytes\n", (unsigned)fw_stack_peak(),
           (unsigned)fw_stack_size());
    fflush(stdout);
    return st;
}
