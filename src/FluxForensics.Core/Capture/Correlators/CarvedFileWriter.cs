using System;
using System.Globalization;
using System.IO;
using System.Text;
using FluxForensics.Model;

namespace FluxForensics.Capture
{
    /// <summary>
    /// Writes what the analysis carved to the extraction folder: each executable under its SHA-256 with a name that
    /// cannot run by double-click (<c>&lt;sha256&gt;.bin</c>), saved as its download is reported, and a tab-separated
    /// manifest appended when the capture ends. The only part of the capture analysis that writes to disk.
    /// </summary>
    internal sealed class CarvedFileWriter
    {
        private readonly string _folder;
        private readonly IFluxReporter _reporter;
        private readonly StringBuilder _manifest = new StringBuilder();

        public CarvedFileWriter(string folder, IFluxReporter reporter)
        {
            _folder = folder ?? throw new ArgumentNullException(nameof(folder));
            _reporter = reporter ?? NullReporter.Instance;
        }

        /// <summary>Moves the download's carved temporary file to its final name and sets <see cref="FluxDownload.SavedPath"/>.</summary>
        public void Save(FluxDownload download)
        {
            string? temp = download.SavedPath;
            if (temp is null)
            {
                return;
            }

            string finalPath = Path.Combine(_folder, download.Sha256 + ".bin");
            try
            {
                if (File.Exists(finalPath))
                {
                    RelayCarvedFile.TryDelete(temp);
                }
                else
                {
                    File.Move(temp, finalPath);
                }

                download.SavedPath = finalPath;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _reporter.Error(new FluxError("ExtractWriteFailed", FluxErrorCategory.WriteError, finalPath, $"Could not save the carved file: {e.Message}", e));
                download.SavedPath = null;
                return;
            }

            _manifest.Append(download.Sha256).Append('\t').Append(download.Md5).Append('\t')
                .Append(download.Size.ToString(CultureInfo.InvariantCulture)).Append('\t').Append(download.FileType).Append('\t')
                .Append(Path.GetFileName(download.SavedPath)).Append('\t').Append(Clean(download.FileName)).Append('\t')
                .Append(Clean(download.Url)).Append('\t').Append(download.Client).Append('\t').Append(download.Relay).Append('\t')
                .Append(download.Server).Append('\t').Append(download.Time.ToString("o", CultureInfo.InvariantCulture)).AppendLine();
        }

        /// <summary>Appends the manifest lines of this analysis to <c>manifest.tsv</c> (with its header when the file is new).</summary>
        public void Complete()
        {
            try
            {
                Directory.CreateDirectory(_folder);
                string manifestPath = Path.Combine(_folder, "manifest.tsv");
                const string Header = "Sha256\tMd5\tSize\tFileType\tSavedName\tFileName\tUrl\tClient\tRelay\tServer\tTime";
                string text = File.Exists(manifestPath) ? _manifest.ToString() : Header + Environment.NewLine + _manifest;
                File.AppendAllText(manifestPath, text);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _reporter.Error(new FluxError("ExtractWriteFailed", FluxErrorCategory.WriteError, _folder, $"Could not write the manifest: {e.Message}", e));
            }
        }

        private static string Clean(string? text) => text is null ? string.Empty : text.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');
    }
}
