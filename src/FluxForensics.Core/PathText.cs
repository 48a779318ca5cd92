namespace FluxForensics
{
    /// <summary>Paths as text, Windows or POSIX, whatever the OS running the analysis (a mounted disk, a capture).</summary>
    public static class PathText
    {
        /// <summary>The last component after either separator; the whole text when it has none; null for null or empty.</summary>
        public static string? Leaf(string? path)
        {
            if (string.IsNullOrEmpty(path))
            {
                return null;
            }

            int slash = System.Math.Max(path!.LastIndexOf('\\'), path.LastIndexOf('/'));
            string leaf = slash >= 0 ? path.Substring(slash + 1) : path;
            return leaf.Length == 0 ? null : leaf;
        }
    }
}
