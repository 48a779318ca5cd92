using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace FluxForensics.Fixtures.Listener
{
    /// <summary>Shared plumbing of the listener fixtures: arguments, the ready file, waiting until told to stop.</summary>
    internal static class ListenerFixture
    {
        /// <summary>Exit code when a port the fixture needs is taken on this machine (tests skip on it).</summary>
        public const int PortTaken = 75;

        public static string? Option(string[] args, string name, string? fallback = null)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        public static int IntOption(string[] args, string name, int fallback) =>
            Option(args, name) is string s ? int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture) : fallback;

        /// <summary>Writes the ready file atomically (tests poll for it).</summary>
        public static void Ready(string? readyFile, string text)
        {
            if (readyFile is null)
            {
                Console.WriteLine(text);
                return;
            }

            string temp = readyFile + ".tmp";
            File.WriteAllText(temp, text);
            File.Move(temp, readyFile, overwrite: true);
        }

        /// <summary>Holds everything open until stdin closes (the parent died or closed it) or --seconds pass.</summary>
        public static void HoldUntilReleased(string[] args)
        {
            int seconds = IntOption(args, "--seconds", 300);
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
        }

        public static Socket Listen(IPAddress address, int port, SocketType type, ProtocolType protocol, List<string> taken)
        {
            var socket = new Socket(address.AddressFamily, type, protocol);
            try
            {
                socket.Bind(new IPEndPoint(address, port));
                if (type == SocketType.Stream)
                {
                    socket.Listen(512);
                }
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
                taken.Add($"{(protocol == ProtocolType.Tcp ? "TCP" : "UDP")} {address}:{port} ({e.SocketErrorCode})");
                socket.Dispose();
            }

            return socket;
        }

        /// <summary>Accepts and keeps every connection on a background thread, so clients stay ESTABLISHED.</summary>
        public static void AcceptForever(Socket listener, List<Socket> keep)
        {
            var t = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        var s = listener.Accept();
                        lock (keep)
                        {
                            keep.Add(s);
                        }
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            }) { IsBackground = true };
            t.Start();
        }

        public static IPAddress Upstream(int network) => IPAddress.Parse($"127.{network + 2}.0.1");

        /// <summary>Host <paramref name="host"/> (0-based) of upstream network <paramref name="network"/>: 127.(n+2).0.(h+1).</summary>
        public static IPAddress Upstream(int network, int host) => IPAddress.Parse($"127.{network + 2}.0.{host + 1}");

        /// <summary>Accepts connections and closes each at once, so this end closes first and its socket stays in TIME_WAIT.</summary>
        public static void AcceptAndClose(Socket listener)
        {
            var t = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        using var s = listener.Accept();
                        s.Shutdown(SocketShutdown.Both);
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            }) { IsBackground = true };
            t.Start();
        }
    }

    /// <summary>
    /// The "upstream" web servers the relay fans out to: TCP port --port (80) on 127.2.0.1 … 127.(N+1).0.1, one /16 each.
    /// Runs from the ordinary build folder, so it is the test's example of an expected listener.
    /// </summary>
    public sealed class ListenerUpstreamCommand : IFixtureCommand
    {
        public string Name => "listener-upstream";
        public string Usage => "listener-upstream [--ready-file F] [--networks 5] [--hosts 1] [--port 80] [--seconds 300] (port-80 servers on 127.2.0.1 …, --hosts per /16)";

        public int Run(string[] args)
        {
            int networks = ListenerFixture.IntOption(args, "--networks", 5);
            int port = ListenerFixture.IntOption(args, "--port", 80);
            int hosts = ListenerFixture.IntOption(args, "--hosts", 1);
            var taken = new List<string>();
            var listeners = new List<Socket>();
            var accepted = new List<Socket>();
            for (int n = 0; n < networks; n++)
            {
                for (int h = 0; h < hosts; h++)
                {
                    listeners.Add(ListenerFixture.Listen(ListenerFixture.Upstream(n, h), port, SocketType.Stream, ProtocolType.Tcp, taken));
                }
            }

            if (taken.Count > 0)
            {
                ListenerFixture.Ready(ListenerFixture.Option(args, "--ready-file"), "taken " + string.Join("; ", taken));
                return ListenerFixture.PortTaken;
            }

            foreach (var l in listeners)
            {
                ListenerFixture.AcceptForever(l, accepted);
            }

            ListenerFixture.Ready(ListenerFixture.Option(args, "--ready-file"), "ready pid=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            ListenerFixture.HoldUntilReleased(args);
            return 0;
        }
    }

    /// <summary>
    /// A stand-in for mobile7.exe: listens on TCP 80 and UDP 53 of 127.0.0.1 and holds --connections outbound connections
    /// to port 80 spread round-robin over the upstream servers of <see cref="ListenerUpstreamCommand"/>.
    /// </summary>
    public sealed class ListenerMalwareCommand : IFixtureCommand
    {
        public string Name => "listener-malware";
        public string Usage => "listener-malware [--ready-file F] [--connections 50] [--networks 5] [--hosts 1] [--remote-port 80] [--address 127.0.0.1] [--close-accepted] [--no-listen] [--seconds 300] (TCP 80 + UDP 53 + fan-out)";

        public int Run(string[] args)
        {
            int connections = ListenerFixture.IntOption(args, "--connections", 50);
            int networks = ListenerFixture.IntOption(args, "--networks", 5);
            int hosts = ListenerFixture.IntOption(args, "--hosts", 1);
            int remotePort = ListenerFixture.IntOption(args, "--remote-port", 80);
            var address = IPAddress.Parse(ListenerFixture.Option(args, "--address", "127.0.0.1")!);
            string? ready = ListenerFixture.Option(args, "--ready-file");
            var taken = new List<string>();
            var accepted = new List<Socket>();
            Socket? udp = null;
            if (!args.Contains("--no-listen"))
            {
                var tcp = ListenerFixture.Listen(address, 80, SocketType.Stream, ProtocolType.Tcp, taken);
                udp = ListenerFixture.Listen(address, 53, SocketType.Dgram, ProtocolType.Udp, taken);
                if (taken.Count > 0)
                {
                    ListenerFixture.Ready(ready, "taken " + string.Join("; ", taken));
                    return ListenerFixture.PortTaken;
                }

                // A relay that answers each client and hangs up leaves its side of every short connection in TIME_WAIT.
                if (args.Contains("--close-accepted"))
                {
                    ListenerFixture.AcceptAndClose(tcp);
                }
                else
                {
                    ListenerFixture.AcceptForever(tcp, accepted);
                }
            }

            // Round-robin over the networks first, then over the hosts in each, as the upstream fixture lays them out.
            var outbound = new List<Socket>();
            for (int i = 0; i < connections; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Connect(new IPEndPoint(ListenerFixture.Upstream(i % networks, i / networks % hosts), remotePort));
                outbound.Add(s);
            }

            ListenerFixture.Ready(ready, "ready pid=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            ListenerFixture.HoldUntilReleased(args);
            GC.KeepAlive(udp);
            return 0;
        }
    }

    /// <summary>
    /// Clients of a relay: --count short connections to --address:--port from 127.0.(k).1 source addresses, each waiting for the
    /// server to hang up before closing, so the server's end of every one is left in TIME_WAIT. Exits when done.
    /// </summary>
    public sealed class ListenerChurnCommand : IFixtureCommand
    {
        public string Name => "listener-churn";
        public string Usage => "listener-churn --port P [--address 127.0.0.1] [--count 40] [--clients 4] (short connections the server closes)";

        public int Run(string[] args)
        {
            int port = ListenerFixture.IntOption(args, "--port", 80);
            int count = ListenerFixture.IntOption(args, "--count", 40);
            int clients = ListenerFixture.IntOption(args, "--clients", 4);
            var server = new IPEndPoint(IPAddress.Parse(ListenerFixture.Option(args, "--address", "127.0.0.1")!), port);
            var buffer = new byte[16];
            for (int i = 0; i < count; i++)
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Bind(new IPEndPoint(IPAddress.Parse($"127.0.{10 + i % clients}.1"), 0));
                s.ReceiveTimeout = 5000;
                s.Connect(server);
                while (s.Receive(buffer) > 0)
                {
                }
            }

            Console.WriteLine("done " + count.ToString(CultureInfo.InvariantCulture));
            return 0;
        }
    }

    /// <summary>An ordinary server: TCP on 127.0.0.1:--port (a high port), nothing else.</summary>
    public sealed class ListenerPlainCommand : IFixtureCommand
    {
        public string Name => "listener-plain";
        public string Usage => "listener-plain --port P [--ready-file F] [--seconds 300] (one TCP listener on 127.0.0.1)";

        public int Run(string[] args)
        {
            int port = ListenerFixture.IntOption(args, "--port", 0);
            var taken = new List<string>();
            var accepted = new List<Socket>();
            var listener = ListenerFixture.Listen(IPAddress.Loopback, port, SocketType.Stream, ProtocolType.Tcp, taken);
            if (taken.Count > 0)
            {
                ListenerFixture.Ready(ListenerFixture.Option(args, "--ready-file"), "taken " + string.Join("; ", taken));
                return ListenerFixture.PortTaken;
            }

            ListenerFixture.AcceptForever(listener, accepted);
            ListenerFixture.Ready(ListenerFixture.Option(args, "--ready-file"),
                "ready pid=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + " port=" + ((IPEndPoint)listener.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture));
            ListenerFixture.HoldUntilReleased(args);
            return 0;
        }
    }

    /// <summary>
    /// For the benchmark: --processes processes (this one and its children) holding --sockets sockets each: one TCP listener
    /// on an ephemeral loopback port and connections to it (both ends count). Children die with their parent (stdin closes).
    /// </summary>
    public sealed class ListenerCrowdCommand : IFixtureCommand
    {
        public string Name => "listener-crowd";
        public string Usage => "listener-crowd [--ready-file F] [--processes 200] [--sockets 25] [--seconds 600] (many processes with many sockets)";

        public int Run(string[] args)
        {
            int processes = ListenerFixture.IntOption(args, "--processes", 200);
            int sockets = ListenerFixture.IntOption(args, "--sockets", 25);
            bool child = args.Contains("--child");
            var keep = Open(sockets);
            if (child)
            {
                Console.WriteLine("ready");
                Console.Out.Flush();
                ListenerFixture.HoldUntilReleased(args);
                GC.KeepAlive(keep);
                return 0;
            }

            string self = Environment.ProcessPath!;
            var children = new List<Process>();
            try
            {
                for (int i = 1; i < processes; i++)
                {
                    var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
                    // `dotnet Fixtures.dll` or the apphost: pass the dll when the host is dotnet.
                    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
                    {
                        start.ArgumentList.Add(typeof(ListenerCrowdCommand).Assembly.Location);
                    }

                    foreach (var a in new[] { Name, "--child", "--sockets", sockets.ToString(CultureInfo.InvariantCulture), "--seconds", ListenerFixture.Option(args, "--seconds", "600")! })
                    {
                        start.ArgumentList.Add(a);
                    }

                    start.Environment["DOTNET_TieredCompilation"] = "0";
                    start.Environment["DOTNET_GCHeapHardLimit"] = "0x4000000";
                    children.Add(Process.Start(start)!);
                }

                foreach (var c in children)
                {
                    if (c.StandardOutput.ReadLine() != "ready")
                    {
                        Console.Error.WriteLine($"child {c.Id} did not get ready");
                        return 1;
                    }
                }

                ListenerFixture.Ready(ListenerFixture.Option(args, "--ready-file"),
                    "ready pid=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + " children=" + string.Join(",", children.Select(c => c.Id)));
                ListenerFixture.HoldUntilReleased(args);
                GC.KeepAlive(keep);
                return 0;
            }
            finally
            {
                foreach (var c in children)
                {
                    try
                    {
                        c.StandardInput.Close();
                        if (!c.WaitForExit(5000))
                        {
                            c.Kill();
                        }
                    }
                    catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
                    {
                    }
                }
            }
        }

        /// <summary>A listener plus (n - 1) / 2 connections to it, each with both ends in this process: n sockets.</summary>
        private static List<Socket> Open(int n)
        {
            var keep = new List<Socket>();
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(512);
            keep.Add(listener);
            var endPoint = (IPEndPoint)listener.LocalEndPoint!;
            while (keep.Count + 2 <= n)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                client.Connect(endPoint);
                keep.Add(client);
                keep.Add(listener.Accept());
            }

            if (keep.Count < n)
            {
                var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                keep.Add(udp);
            }

            return keep;
        }
    }
}
