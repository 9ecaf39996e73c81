# The passthrough health snapshot, collected in one go per host by every tool in the benchmark.
# Each part is allowed to fail (a host without lspci or dmesg access still reports the rest).
echo '== uname -r'; uname -r
echo '== /proc/cmdline'; cat /proc/cmdline
echo '== dmesg iommu'; dmesg 2>/dev/null | grep -i -e DMAR -e IOMMU -e AMD-Vi -e 'remapping' || true
echo '== iommu_groups'; find /sys/kernel/iommu_groups/ -maxdepth 3 -type l -printf '%p -> %l\n' 2>/dev/null || true
echo '== lspci -nnk'; lspci -nnk 2>/dev/null || true
echo '== lsmod'; lsmod 2>/dev/null || true
echo '== /proc/interrupts'; cat /proc/interrupts 2>/dev/null || true
