# Guest script of `make run` (tests/rig/demo.sh puts "IOS=<count>" in front): waits for the
# disk vdisk serves, then runs the fio 4 KiB job set on it.
# shellcheck shell=sh disable=SC1091
. /rig/glib.sh
g_need_disk vda
echo "vda: $(($(cat /sys/block/vda/size) / 2048)) MiB, served by vdisk over virtio-mmio"
g_fio_set /dev/vda fio "${IOS:-300}"
g_summary
