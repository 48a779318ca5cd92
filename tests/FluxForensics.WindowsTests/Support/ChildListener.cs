using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;

namespace FluxForensics.WindowsTests.Support
{
    /// <summary>A second process (this same program in child mode) that opens a loopback listener, prints its port
    /// and holds it until its standard input closes. The tests use it where a socket must belong to another PID.</summary>
    internal sealed class ChildListener : IDisposable
    {
        public const string Verb = "--child-listener";
        private readonly Process process;

        private ChildListener(Process process, int port)
        {
            this.process = process;
            Port = port;
        }

        public int Port { get; }

        public int ProcessId => process.Id;

        public string ExecutablePath => Environment.ProcessPath!;

        public static ChildListener Start(string protocol, params string[] extraArguments)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Verb);
            start.ArgumentList.Add(protocol);
            foreach (string argument in extraArguments)
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start)!;
            var portLine = process.StandardOutput.ReadLineAsync();
            if (!portLine.Wait(TimeSpan.FromSeconds(30)) || portLine.Result == null)
            {
                process.Kill();
                throw new InvalidOperationException("the child listener did not report its port within 30 s");
            }

            return new ChildListener(process, int.Parse(portLine.Result, CultureInfo.InvariantCulture));
        }

        public static int Run(string[] args)
        {
            string protocol = args.Length > 1 ? args[1] : "tcp";
            IDisposable socket;
            int port;
            if (protocol == "udp")
            {
                var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
                port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
                socket = udp;
            }
            else
            {
                var tcp = new TcpListener(IPAddress.Loopback, 0);
                tcp.Start();
                port = ((IPEndPoint)tcp.LocalEndpoint).Port;
                socket = tcp.Server;
            }

            Console.Out.WriteLine(port.ToString(CultureInfo.InvariantCulture));
            Console.Out.Flush();
            Console.In.ReadToEnd(); // hold the socket until the parent closes our standard input
            socket.Dispose();
            return 0;
        }

        public void Dispose()
        {
            try
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(10_000))
                {
                    process.Kill();
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
            catch (IOException)
            {
                // pipe already closed
            }

            process.Dispose();
        }
    }
}
