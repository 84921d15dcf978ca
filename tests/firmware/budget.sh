#!/bin/sh
# budget.sh BIN - the firmware budget `make cross` prints (and README.md
# keeps): flash of the echo images from their sections, the biggest
# symbols of the minimal one, and the RAM figures the budget image
# measures on the emulated Cortex-M4.
bin=$1
qemu="timeout 60 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native -kernel"
sect() { # image section -> bytes
    arm-none-eabi-size -A "$bin/$1" | awk -v s="$2" '$1 == s { print $2 }'
}
ram=$(mktemp)
trap 'rm -f "$ram"' EXIT
$qemu "$bin/budget" >"$ram" 2>&1 || { cat "$ram"; echo "budget: image failed"; exit 1; }
val() { awk -v k="$1" -v f="${2:-3}" '$1 == "budget" && $2 == k { print $f }' "$ram"; }

echo "firmware budget (Cortex-M4, arm-none-eabi-gcc -Os, newlib-nano, --gc-sections)"
printf '  %-44s %8s %8s %8s %8s\n' "flash, whole image" .text .rodata total stack
for img in test_echo_min test_echo_pmd; do
    t=$(sect $img .text); r=$(sect $img .rodata)
    s=$($qemu "$bin/$img" 2>&1 | awk '$1 == "budget" { print $4 }')
    printf '  %-44s %8d %8d %8d %8s\n' "${img#test_}" "$t" "$r" $((t + r)) "$s"
done
for img in test_echo_min test_echo_pmd; do
    echo "  ${img#test_} flash (.text + .rodata) by object, from the link map:"
    # An input section's line may wrap after a long name: take the size
    # and the object from whichever line carries them.
    awk '/^ \.(text|rodata)/ { sec = 1; if (NF >= 4) { print $3, $4; sec = 0 }; next }
         sec && NF >= 3 && $1 ~ /^0x/ { print $2, $3 } { sec = 0 }' "$bin/../map/$img.map" |
        awk 'function hex(s,  v, i) { s = tolower(s); sub(/^0x/, "", s); v = 0
                 for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
                 return v }
             { o = $2; w = o ~ /libwsx\.a\(/; sub(/.*\(/, "", o); sub(/\)$/, "", o); sub(/.*\//, "", o)
               n[o] += hex($1); if (w) wsx += hex($1) }
             END { for (o in n) if (n[o]) print n[o], o; print wsx, "all-of-libwsx.a" }' |
        sort -rn | head -n 11 | awk '{ printf "    %6d %s\n", $1, $2 }'
done
echo "  largest symbols of echo_min (bytes):"
arm-none-eabi-nm --size-sort -S -t d "$bin/test_echo_min" | awk '$3 ~ /^[TtRr]$/' |
    tail -n 8 | sort -k2 -rn | awk '{ printf "    %6d %s\n", $2, $4 }'
echo "  RAM, server connection (bytes asked / held in wsx_arena):"
echo "    sizeof(wsx_conn)                             $(val sizeof_wsx_conn)"
for k in core_idle core_4k_received pmd8_idle pmd8_4k_received pmd8_after_send_idle; do
    printf '    %-44s %s / %s\n' "$k" "$(val $k)" "$(val $k 4)"
done
for k in core pmd8; do
    printf '    %-44s %s\n' "${k}_peak_arena" "$(val ${k}_peak_arena)"
    printf '    %-44s %s\n' "${k}_stack (deepest, wsx calls)" "$(val ${k}_stack)"
done
t=$(sect test_echo_min .text); idle=$(val core_idle 4)
echo "  goals: echo_min .text <= 16384: $t $( [ "$t" -le 16384 ] && echo met || echo MISSED);" \
     "idle connection <= 512: $idle $( [ "$idle" -le 512 ] && echo met || echo MISSED)"
[ "$(val core_ok)" = 1 ] && [ "$(val pmd8_ok)" = 1 ] || { echo "budget: session failed"; exit 1; }
