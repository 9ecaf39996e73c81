# The demo's health command, run on every host by `rollgate exec` (a first taste of the passthrough snapshot).
echo "kernel:       $(uname -r)"
echo "iommu args:   $(grep -o '\(intel_iommu\|amd_iommu\|iommu\|vfio-pci\.ids\)=[^ ]*' /proc/cmdline | tr '\n' ' ')"
echo "iommu groups: $(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l)"
echo "vfio modules: $(cat /proc/modules 2>/dev/null | grep -c '^vfio')"
