using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Formats
{
    public static partial class ShellLinkFile
    {
        /// <summary>The LinkInfo section (MS-SHLLINK 2.3): the volume and local or network path the target was on.</summary>
        private sealed partial class Reader
        {
            private void ParseLinkInfo(ReadOnlySpan<byte> info, int baseOffset)
            {
                uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(4));
                uint flags = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(8));
                uint volumeIdOffset = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(12));
                uint localBasePathOffset = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(16));
                uint networkOffset = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(20));
                uint suffixOffset = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(24));
                uint localBasePathOffsetUnicode = 0, suffixOffsetUnicode = 0;
                if (headerSize >= 0x24 && info.Length >= 0x24)
                {
                    localBasePathOffsetUnicode = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(28));
                    suffixOffsetUnicode = BinaryPrimitives.ReadUInt32LittleEndian(info.Slice(32));
                }

                if (headerSize != 0x1C && headerSize < 0x24)
                {
                    Issue(baseOffset + 4, "LinkInfo", $"LinkInfoHeaderSize {headerSize} is neither 0x1C nor >= 0x24");
                }

                bool volumeAndLocal = (flags & 0x1) != 0;
                bool network = (flags & 0x2) != 0;

                if (volumeAndLocal)
                {
                    if (InStructure(info, volumeIdOffset, 0x10, baseOffset, "VolumeID"))
                    {
                        var volume = info.Slice((int)volumeIdOffset);
                        uint volumeSize = BinaryPrimitives.ReadUInt32LittleEndian(volume);
                        if (volumeSize < 0x10 || volumeSize > volume.Length)
                        {
                            Issue(baseOffset + volumeIdOffset, "VolumeID", $"VolumeIDSize {volumeSize} is too small or runs past LinkInfo");
                        }
                        else
                        {
                            volume = volume.Slice(0, (int)volumeSize);
                            _link.DriveType = BinaryPrimitives.ReadUInt32LittleEndian(volume.Slice(4));
                            _link.DriveSerialNumber = BinaryPrimitives.ReadUInt32LittleEndian(volume.Slice(8));
                            uint labelOffset = BinaryPrimitives.ReadUInt32LittleEndian(volume.Slice(12));
                            if (labelOffset == 0x14 && volume.Length >= 0x14)
                            {
                                uint unicodeOffset = BinaryPrimitives.ReadUInt32LittleEndian(volume.Slice(16));
                                if (InStructure(volume, unicodeOffset, 2, baseOffset + volumeIdOffset, "VolumeLabelUnicode"))
                                {
                                    _link.VolumeLabel = TextDecoding.Utf16Z(volume.Slice((int)unicodeOffset), out _);
                                }
                            }
                            else if (InStructure(volume, labelOffset, 1, baseOffset + volumeIdOffset, "VolumeLabel"))
                            {
                                _link.VolumeLabel = AnsiZ(volume.Slice((int)labelOffset), out _);
                            }
                        }
                    }

                    if (localBasePathOffsetUnicode != 0 && InStructure(info, localBasePathOffsetUnicode, 2, baseOffset, "LocalBasePathUnicode"))
                    {
                        _link.LocalBasePath = TextDecoding.Utf16Z(info.Slice((int)localBasePathOffsetUnicode), out _);
                    }
                    else if (InStructure(info, localBasePathOffset, 1, baseOffset, "LocalBasePath"))
                    {
                        _link.LocalBasePath = AnsiZ(info.Slice((int)localBasePathOffset), out _);
                    }
                }

                if (network && InStructure(info, networkOffset, 0x14, baseOffset, "CommonNetworkRelativeLink"))
                {
                    var cnrl = info.Slice((int)networkOffset);
                    uint cnrlSize = BinaryPrimitives.ReadUInt32LittleEndian(cnrl);
                    if (cnrlSize < 0x14 || cnrlSize > cnrl.Length)
                    {
                        Issue(baseOffset + networkOffset, "CommonNetworkRelativeLink", $"size {cnrlSize} is too small or runs past LinkInfo");
                    }
                    else
                    {
                        cnrl = cnrl.Slice(0, (int)cnrlSize);
                        uint cnrlFlags = BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(4));
                        uint netNameOffset = BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(8));
                        uint deviceNameOffset = BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(12));
                        if ((cnrlFlags & 0x2) != 0)
                        {
                            _link.NetworkProviderType = BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(16));
                        }

                        bool hasUnicode = netNameOffset > 0x14 && cnrl.Length >= 0x1C;
                        uint netNameUnicode = hasUnicode ? BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(20)) : 0;
                        uint deviceNameUnicode = hasUnicode ? BinaryPrimitives.ReadUInt32LittleEndian(cnrl.Slice(24)) : 0;
                        long cnrlBase = baseOffset + networkOffset;
                        if (netNameUnicode != 0 && InStructure(cnrl, netNameUnicode, 2, cnrlBase, "NetNameUnicode"))
                        {
                            _link.NetworkName = TextDecoding.Utf16Z(cnrl.Slice((int)netNameUnicode), out _);
                        }
                        else if (InStructure(cnrl, netNameOffset, 1, cnrlBase, "NetName"))
                        {
                            _link.NetworkName = AnsiZ(cnrl.Slice((int)netNameOffset), out _);
                        }

                        if ((cnrlFlags & 0x1) != 0)
                        {
                            if (deviceNameUnicode != 0 && InStructure(cnrl, deviceNameUnicode, 2, cnrlBase, "DeviceNameUnicode"))
                            {
                                _link.DeviceName = TextDecoding.Utf16Z(cnrl.Slice((int)deviceNameUnicode), out _);
                            }
                            else if (InStructure(cnrl, deviceNameOffset, 1, cnrlBase, "DeviceName"))
                            {
                                _link.DeviceName = AnsiZ(cnrl.Slice((int)deviceNameOffset), out _);
                            }
                        }
                    }
                }

                if (suffixOffsetUnicode != 0 && InStructure(info, suffixOffsetUnicode, 2, baseOffset, "CommonPathSuffixUnicode"))
                {
                    _link.CommonPathSuffix = TextDecoding.Utf16Z(info.Slice((int)suffixOffsetUnicode), out _);
                }
                else if (suffixOffset != 0 && InStructure(info, suffixOffset, 1, baseOffset, "CommonPathSuffix"))
                {
                    _link.CommonPathSuffix = AnsiZ(info.Slice((int)suffixOffset), out _);
                }

                string suffix = _link.CommonPathSuffix ?? string.Empty;
                if (_link.LocalBasePath is string local)
                {
                    _link.LinkInfoPath = local + suffix;
                }
                else if (_link.NetworkName is string net)
                {
                    _link.LinkInfoPath = suffix.Length == 0 ? net : net.TrimEnd('\\') + "\\" + suffix;
                }

                if (_link.LinkInfoPath is string p && p.Length > MaxPath)
                {
                    _overlong.Add("LinkInfoPath");
                    Issue(baseOffset, "LinkInfo", $"path is {p.Length} characters, longer than MAX_PATH; not trusted");
                }
            }

            private bool InStructure(ReadOnlySpan<byte> structure, uint offset, int minimum, long baseOffset, string record)
            {
                if (offset == 0 || offset + (long)minimum > structure.Length)
                {
                    Issue(baseOffset, record, $"offset {offset} lies outside its structure ({structure.Length} bytes)");
                    return false;
                }

                return true;
            }
        }
    }
}
