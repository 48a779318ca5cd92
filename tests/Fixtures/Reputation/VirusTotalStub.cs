using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace FluxForensics.Fixtures.Reputation
{
    /// <summary>A file VirusTotal knows, as the stub serves it.</summary>
    public sealed record StubFile(string Sha256, string Md5, int Malicious, int Undetected, int Unsupported, string? Label, string[] Names, long FirstSubmission, long LastAnalysis);

    /// <summary>A domain VirusTotal knows, as the stub serves it.</summary>
    public sealed record StubDomain(string Name, int Malicious, int Suspicious, int Harmless, int Undetected, long LastAnalysis);

    /// <summary>
    /// A stand-in for VirusTotal API v3 on 127.0.0.1 (the real service cannot be reached from the test machines, and a
    /// test must not spend anyone's quota). It speaks plain HTTP/1.1 on a TcpListener and answers with the shapes
    /// VirusTotal documents: the file object and the domain object under <c>data.attributes</c>, and errors as
    /// <c>{"error": {"code": …, "message": …}}</c>: NotFoundError (404) for anything it does not know,
    /// WrongCredentialsError (401) for a wrong <c>x-apikey</c>, AuthenticationRequiredError (401) for none, and
    /// QuotaExceededError (429) for the first <see cref="QuotaExceededFirst"/> requests. Every request is logged.
    /// </summary>
    public sealed class VirusTotalStub : IDisposable
    {
        /// <summary>mobile7.exe / click.exe of the case: 29 of 57 engines.</summary>
        public static readonly StubFile Mobile7 = new StubFile(
            "5f8a2b7c1d0e9f3a4b6c8d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a", "0cc175b9c0f1b6a831c399e269772661",
            29, 25, 3, "trojan.tofsee/relay", new[] { "mobile7.exe", "click.exe", "cclub02.exe" }, 1290470400, 1764892800);

        /// <summary>A clean tool: no engine flags it.</summary>
        public static readonly StubFile CleanTool = new StubFile(
            "1111111111111111111111111111111111111111111111111111111111111111", "22222222222222222222222222222222",
            0, 70, 2, null, new[] { "putty.exe" }, 1104537600, 1764806400);

        /// <summary>The flux name of the case: 8 of 94 engines, 2 suspicious.</summary>
        public static readonly StubDomain Bayermun = new StubDomain("bayermun.biz", 8, 2, 55, 29, 1764720000);

        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Task _loop;
        private readonly ConcurrentQueue<string> _log = new ConcurrentQueue<string>();
        private int _quotaLeft;

        public VirusTotalStub(string apiKey, int quotaExceededFirst = 0, IEnumerable<StubFile>? files = null, IEnumerable<StubDomain>? domains = null, string? logFile = null)
        {
            ApiKey = apiKey;
            QuotaExceededFirst = quotaExceededFirst;
            _quotaLeft = quotaExceededFirst;
            LogFile = logFile;
            foreach (var f in files ?? new[] { Mobile7, CleanTool })
            {
                Files[f.Sha256] = f;
                Files[f.Md5] = f;
            }

            foreach (var d in domains ?? new[] { Bayermun })
            {
                Domains[d.Name] = d;
            }

            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _loop = Task.Run(AcceptLoop);
        }

        public string ApiKey { get; }

        public int QuotaExceededFirst { get; }

        public string? LogFile { get; }

        public int Port { get; }

        public Uri ApiUri => new Uri($"http://127.0.0.1:{Port}/api/v3");

        public Dictionary<string, StubFile> Files { get; } = new Dictionary<string, StubFile>(StringComparer.OrdinalIgnoreCase);

        public Dictionary<string, StubDomain> Domains { get; } = new Dictionary<string, StubDomain>(StringComparer.OrdinalIgnoreCase);

        /// <summary>"GET /api/v3/files/… 200" per request, in arrival order.</summary>
        public IReadOnlyList<string> Requests => _log.ToArray();

        /// <summary>Every header line received, for tests that look for what must not be sent.</summary>
        public ConcurrentQueue<string> RawRequests { get; } = new ConcurrentQueue<string>();

        private async Task AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                _ = Task.Run(() => Serve(client));
            }
        }

        private async Task Serve(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var reader = new StreamReader(stream, Encoding.ASCII, false, 4096, leaveOpen: true);
                    string? requestLine = await reader.ReadLineAsync().ConfigureAwait(false);
                    if (requestLine is null)
                    {
                        return;
                    }

                    var raw = new StringBuilder(requestLine).Append('\n');
                    string? key = null;
                    string? line;
                    while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync().ConfigureAwait(false)))
                    {
                        raw.Append(line).Append('\n');
                        int colon = line.IndexOf(':');
                        if (colon > 0 && line.Substring(0, colon).Trim().Equals("x-apikey", StringComparison.OrdinalIgnoreCase))
                        {
                            key = line.Substring(colon + 1).Trim();
                        }
                    }

                    RawRequests.Enqueue(raw.ToString());
                    var parts = requestLine.Split(' ');
                    string path = parts.Length > 1 ? parts[1] : "/";
                    var (status, body, extra) = Answer(parts[0], path, key);
                    string entry = $"{parts[0]} {path} {status}";
                    _log.Enqueue(entry);
                    if (LogFile is not null)
                    {
                        lock (_log)
                        {
                            File.AppendAllText(LogFile, entry + "\n");
                        }
                    }

                    byte[] payload = Encoding.UTF8.GetBytes(body);
                    var head = new StringBuilder()
                        .Append("HTTP/1.1 ").Append(status).Append(' ').Append(Reason(status)).Append("\r\n")
                        .Append("Content-Type: application/json\r\n")
                        .Append("Content-Length: ").Append(payload.Length).Append("\r\n")
                        .Append("Connection: close\r\n")
                        .Append(extra)
                        .Append("\r\n");
                    byte[] headBytes = Encoding.ASCII.GetBytes(head.ToString());
                    await stream.WriteAsync(headBytes).ConfigureAwait(false);
                    await stream.WriteAsync(payload).ConfigureAwait(false);
                    await stream.FlushAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // The client went away; nothing to answer.
                }
            }
        }

        private (int Status, string Body, string ExtraHeaders) Answer(string method, string path, string? key)
        {
            if (key is null)
            {
                return (401, Error("AuthenticationRequiredError", "X-Apikey header is missing"), string.Empty);
            }

            if (key != ApiKey)
            {
                return (401, Error("WrongCredentialsError", "Wrong API key"), string.Empty);
            }

            if (Interlocked.Decrement(ref _quotaLeft) >= 0)
            {
                return (429, Error("QuotaExceededError", "Quota exceeded"), string.Empty);
            }

            if (method != "GET")
            {
                return (405, Error("BadRequestError", "Only GET is served here"), string.Empty);
            }

            const string files = "/api/v3/files/";
            const string domains = "/api/v3/domains/";
            if (path.StartsWith(files, StringComparison.Ordinal))
            {
                string id = Uri.UnescapeDataString(path.Substring(files.Length));
                return Files.TryGetValue(id, out var file)
                    ? (200, FileObject(file), string.Empty)
                    : (404, Error("NotFoundError", $"File \"{id}\" not found"), string.Empty);
            }

            if (path.StartsWith(domains, StringComparison.Ordinal))
            {
                string name = Uri.UnescapeDataString(path.Substring(domains.Length));
                return Domains.TryGetValue(name, out var domain)
                    ? (200, DomainObject(domain), string.Empty)
                    : (404, Error("NotFoundError", $"Domain \"{name}\" not found"), string.Empty);
            }

            return (404, Error("NotFoundError", $"Resource \"{path}\" not found"), string.Empty);
        }

        private static string Reason(int status) => status switch
        {
            200 => "OK",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            429 => "Too Many Requests",
            _ => "Error",
        };

        /// <summary>The documented error shape.</summary>
        public static string Error(string code, string message) =>
            JsonSerializer.Serialize(new { error = new { code, message } });

        /// <summary>A file object as <c>GET /files/{id}</c> returns it (the attributes a lookup reads, and some it does not).</summary>
        public static string FileObject(StubFile f)
        {
            var attributes = new Dictionary<string, object?>
            {
                ["type_description"] = "Win32 EXE",
                ["size"] = 106496,
                ["sha256"] = f.Sha256,
                ["sha1"] = "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                ["md5"] = f.Md5,
                ["magic"] = "PE32 executable (GUI) Intel 80386, for MS Windows",
                ["meaningful_name"] = f.Names.Length > 0 ? f.Names[0] : null,
                ["names"] = f.Names,
                ["first_submission_date"] = f.FirstSubmission,
                ["last_submission_date"] = f.LastAnalysis,
                ["last_analysis_date"] = f.LastAnalysis,
                ["times_submitted"] = 14,
                ["reputation"] = f.Malicious > 0 ? -47 : 12,
                ["total_votes"] = new { harmless = 0, malicious = f.Malicious > 0 ? 3 : 0 },
                ["last_analysis_stats"] = new Dictionary<string, int>
                {
                    ["harmless"] = 0,
                    ["type-unsupported"] = f.Unsupported,
                    ["suspicious"] = 0,
                    ["confirmed-timeout"] = 0,
                    ["timeout"] = 0,
                    ["failure"] = 0,
                    ["malicious"] = f.Malicious,
                    ["undetected"] = f.Undetected,
                },
                ["last_analysis_results"] = new Dictionary<string, object>
                {
                    ["ESET-NOD32"] = new { category = f.Malicious > 0 ? "malicious" : "undetected", engine_name = "ESET-NOD32", result = f.Malicious > 0 ? "Win32/Tofsee.AX" : null, method = "blacklist" },
                },
            };
            if (f.Label is not null)
            {
                attributes["popular_threat_classification"] = new
                {
                    suggested_threat_label = f.Label,
                    popular_threat_category = new[] { new { count = 18, value = "trojan" } },
                    popular_threat_name = new[] { new { count = 9, value = "tofsee" } },
                };
            }

            return JsonSerializer.Serialize(new
            {
                data = new
                {
                    id = f.Sha256,
                    type = "file",
                    links = new { self = "https://www.virustotal.com/api/v3/files/" + f.Sha256 },
                    attributes,
                },
            });
        }

        /// <summary>A domain object as <c>GET /domains/{domain}</c> returns it.</summary>
        public static string DomainObject(StubDomain d) =>
            JsonSerializer.Serialize(new
            {
                data = new
                {
                    id = d.Name,
                    type = "domain",
                    links = new { self = "https://www.virustotal.com/api/v3/domains/" + d.Name },
                    attributes = new Dictionary<string, object>
                    {
                        ["categories"] = new Dictionary<string, string> { ["Forcepoint ThreatSeeker"] = "malicious web sites" },
                        ["creation_date"] = 1262304000L,
                        ["last_analysis_date"] = d.LastAnalysis,
                        ["last_analysis_stats"] = new Dictionary<string, int>
                        {
                            ["harmless"] = d.Harmless,
                            ["malicious"] = d.Malicious,
                            ["suspicious"] = d.Suspicious,
                            ["undetected"] = d.Undetected,
                            ["timeout"] = 0,
                        },
                        ["reputation"] = -12,
                        ["registrar"] = "Example Registrar",
                        ["tags"] = Array.Empty<string>(),
                        ["total_votes"] = new { harmless = 0, malicious = 2 },
                    },
                },
            });

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The loop ends by its accept being cancelled.
            }

            _stop.Dispose();
        }
    }

    /// <summary>
    /// <c>virustotal-stub --key K [--quota-first N] [--ready-file F] [--log F] [--seconds S]</c>: serves
    /// <see cref="VirusTotalStub"/> on a random 127.0.0.1 port until stdin closes or S seconds pass. The ready file
    /// (or stdout) gets "ready port=N".
    /// </summary>
    public sealed class VirusTotalStubCommand : IFixtureCommand
    {
        public string Name => "virustotal-stub";

        public string Usage => "virustotal-stub --key K [--quota-first N] [--ready-file F] [--log F] [--seconds S] (VirusTotal v3 stand-in on 127.0.0.1)";

        public int Run(string[] args)
        {
            string key = Option(args, "--key") ?? throw new ArgumentException("--key is required");
            int quota = int.Parse(Option(args, "--quota-first") ?? "0", CultureInfo.InvariantCulture);
            int seconds = int.Parse(Option(args, "--seconds") ?? "300", CultureInfo.InvariantCulture);
            using var stub = new VirusTotalStub(key, quota, logFile: Option(args, "--log"));
            string ready = $"ready port={stub.Port}";
            if (Option(args, "--ready-file") is string readyFile)
            {
                File.WriteAllText(readyFile + ".tmp", ready);
                File.Move(readyFile + ".tmp", readyFile, overwrite: true);
            }
            else
            {
                Console.WriteLine(ready);
            }

            var released = new ManualResetEventSlim();
            var reader = new Thread(() =>
            {
                try
                {
                    while (Console.In.ReadLine() is not null)
                    {
                    }
                }
                catch (IOException)
                {
                }

                released.Set();
            }) { IsBackground = true };
            reader.Start();
            released.Wait(TimeSpan.FromSeconds(seconds));
            return 0;
        }

        private static string? Option(string[] args, string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
    }
}
