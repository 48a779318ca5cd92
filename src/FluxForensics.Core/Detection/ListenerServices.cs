using System;
using System.Collections.Generic;
using System.Linq;
using FluxForensics.Model;

namespace FluxForensics.Detection
{
    /// <summary>A service known by its well-known port, and the programs that legitimately provide it.</summary>
    public sealed class ServicePort
    {
        internal ServicePort(string name, string servers, bool relayable, string[] programs, string[] windowsServices)
        {
            Name = name;
            Servers = servers;
            Relayable = relayable;
            Programs = programs;
            WindowsServices = windowsServices;
        }

        /// <summary>Short name: SMTP, HTTP, DNS …</summary>
        public string Name { get; }

        /// <summary>What the remote ends are called in a fan-out reason ("mail servers").</summary>
        public string Servers { get; }

        /// <summary>A service a relay or proxy offers to its clients (web, mail, name resolution, file transfer, proxies):
        /// a program that is not a known server for it scores more than on other well-known ports.</summary>
        public bool Relayable { get; }

        /// <summary>Process names (Linux and Windows) of servers that provide the service.</summary>
        public IReadOnlyList<string> Programs { get; }

        /// <summary>Windows service names that provide it inside a shared host (svchost) or the System process.</summary>
        public IReadOnlyList<string> WindowsServices { get; }
    }

    /// <summary>
    /// Well-known ports (IANA's assignments for the services malware relays or hides behind, plus the everyday ones) and
    /// the servers that provide them. Any listening port is judged against this table; a port below 1024 that is not in it
    /// is still a system port.
    /// </summary>
    public static class ListenerServices
    {
        private static readonly string[] Web =
        {
            "nginx", "apache2", "httpd", "lighttpd", "caddy", "haproxy", "traefik", "envoy", "varnishd", "squid", "w3wp", "httpd.exe",
            "nginx.exe", "caddy.exe", "traefik.exe", "squid.exe", "Apache.exe",
        };

        private static readonly string[] WebServices = { "W3SVC", "WAS", "SharedAccess", "iphlpsvc" };

        private static readonly string[] Dns =
        {
            "named", "dnsmasq", "systemd-resolved", "systemd-resolve", "unbound", "pdns_server", "pdns_recursor", "coredns", "knotd",
            "dns.exe", "named.exe", "unbound.exe", "coredns.exe",
        };

        private static readonly string[] Mail =
        {
            "master", "smtpd", "postfix", "exim", "exim4", "sendmail", "opensmtpd", "courier", "haraka", "MailEnable.exe", "hMailServer.exe", "MsExchangeFrontendTransport.exe",
            "EdgeTransport.exe", "MSExchangeTransport.exe", "inetinfo.exe",
        };

        private static readonly string[] Mailbox = { "dovecot", "imap-login", "pop3-login", "courier-imapd", "cyrus-master", "master", "hMailServer.exe", "MailEnable.exe" };

        private static readonly Dictionary<(SocketProtocol, int), ServicePort> Table = Build();

        private static Dictionary<(SocketProtocol, int), ServicePort> Build()
        {
            var t = new Dictionary<(SocketProtocol, int), ServicePort>();
            void Add(SocketProtocol p, int[] ports, string name, string servers, bool relayable, string[] programs, params string[] services)
            {
                var s = new ServicePort(name, servers, relayable, programs, services);
                foreach (int port in ports)
                {
                    t[(p, port)] = s;
                }
            }

            var tcp = SocketProtocol.Tcp;
            var udp = SocketProtocol.Udp;
            Add(tcp, new[] { 80, 8080 }, "HTTP", "web servers", true, Web, WebServices);
            Add(tcp, new[] { 443 }, "HTTPS", "web servers", true, Web, WebServices);
            Add(tcp, new[] { 25 }, "SMTP", "mail servers", true, Mail, "SMTPSVC", "MSExchangeFrontEndTransport", "MSExchangeTransport");
            Add(tcp, new[] { 465, 587 }, "SMTP submission", "mail servers", true, Mail, "SMTPSVC", "MSExchangeFrontEndTransport");
            Add(tcp, new[] { 110, 995 }, "POP3", "mailbox servers", true, Mailbox, "MSExchangePOP3");
            Add(tcp, new[] { 143, 993 }, "IMAP", "mailbox servers", true, Mailbox, "MSExchangeIMAP4");
            Add(tcp, new[] { 21 }, "FTP", "FTP servers", true, new[] { "vsftpd", "proftpd", "pure-ftpd", "FileZilla Server.exe", "filezilla-server", "inetinfo.exe" }, "FTPSVC", "MSFTPSVC");
            Add(tcp, new[] { 53 }, "DNS", "name servers", true, Dns, "DNS");
            Add(udp, new[] { 53 }, "DNS", "name servers", true, Dns, "DNS", "SharedAccess");
            Add(tcp, new[] { 1080 }, "SOCKS", "SOCKS proxies", true, new[] { "danted", "sockd", "ss5", "3proxy" });
            Add(tcp, new[] { 3128 }, "HTTP proxy", "proxies", true, new[] { "squid", "squid.exe", "tinyproxy", "privoxy" });
            Add(tcp, new[] { 6667 }, "IRC", "IRC servers", true, new[] { "ircd", "inspircd", "unrealircd", "ngircd" });
            Add(tcp, new[] { 22 }, "SSH", "SSH servers", false, new[] { "sshd", "sshd.exe", "dropbear" }, "sshd");
            Add(tcp, new[] { 23 }, "Telnet", "Telnet servers", false, new[] { "telnetd", "in.telnetd", "inetd", "xinetd" }, "TlntSvr");
            Add(tcp, new[] { 135 }, "RPC endpoint mapper", "RPC servers", false, new[] { "svchost.exe" }, "RpcSs", "RpcEptMapper");
            Add(tcp, new[] { 139, 445 }, "SMB", "file servers", false, new[] { "smbd", "System" }, "LanmanServer");
            Add(udp, new[] { 137, 138 }, "NetBIOS", "NetBIOS hosts", false, new[] { "nmbd", "System" });
            Add(tcp, new[] { 3389 }, "RDP", "remote desktops", false, new[] { "xrdp", "svchost.exe" }, "TermService");
            Add(tcp, new[] { 5985, 5986 }, "WinRM", "WinRM hosts", false, new[] { "System" }, "WinRM");
            Add(tcp, new[] { 3306 }, "MySQL", "database servers", false, new[] { "mysqld", "mariadbd", "mysqld.exe" });
            Add(tcp, new[] { 5432 }, "PostgreSQL", "database servers", false, new[] { "postgres", "postgres.exe" });
            Add(tcp, new[] { 1433 }, "SQL Server", "database servers", false, new[] { "sqlservr", "sqlservr.exe" });
            Add(tcp, new[] { 6379 }, "Redis", "database servers", false, new[] { "redis-server" });
            Add(tcp, new[] { 389, 636 }, "LDAP", "directory servers", false, new[] { "slapd", "lsass.exe" }, "NTDS");
            Add(tcp, new[] { 88 }, "Kerberos", "KDCs", false, new[] { "krb5kdc", "lsass.exe" }, "Kdc");
            Add(tcp, new[] { 111 }, "RPC portmapper", "portmappers", false, new[] { "rpcbind", "portmap" });
            Add(udp, new[] { 111 }, "RPC portmapper", "portmappers", false, new[] { "rpcbind", "portmap" });
            Add(tcp, new[] { 631 }, "IPP", "printers", false, new[] { "cupsd" });
            Add(udp, new[] { 67 }, "DHCP", "DHCP servers", false, new[] { "dhcpd", "dnsmasq", "kea-dhcp4" }, "DHCPServer", "SharedAccess");
            Add(udp, new[] { 68 }, "DHCP client", "DHCP servers", false, new[] { "dhclient", "dhcpcd", "systemd-networkd", "NetworkManager" }, "Dhcp");
            Add(udp, new[] { 123 }, "NTP", "time servers", false, new[] { "ntpd", "chronyd", "systemd-timesyncd", "openntpd" }, "W32Time");
            Add(udp, new[] { 161 }, "SNMP", "SNMP agents", false, new[] { "snmpd" }, "SNMP");
            Add(udp, new[] { 500, 4500 }, "IKE", "VPN peers", false, new[] { "charon", "pluto", "racoon" }, "IKEEXT", "PolicyAgent");
            Add(udp, new[] { 1900 }, "SSDP", "UPnP devices", false, new[] { "minissdpd", "miniupnpd" }, "SSDPSRV");
            Add(udp, new[] { 5353 }, "mDNS", "mDNS responders", false, new[] { "avahi-daemon", "mDNSResponder", "systemd-resolved" }, "Dnscache");
            Add(udp, new[] { 5355 }, "LLMNR", "LLMNR responders", false, new[] { "systemd-resolved" }, "Dnscache");
            return t;
        }

        /// <summary>The service whose well-known port this is, or null.</summary>
        public static ServicePort? For(SocketProtocol protocol, int port) => Table.TryGetValue((protocol, port), out var s) ? s : null;

        /// <summary>A port below 1024: only privileged processes may listen there, so someone chose it on purpose.</summary>
        public static bool IsSystemPort(int port) => port > 0 && port < 1024;

        /// <summary>Whether a process with this name (or hosting one of these Windows services) provides the service.</summary>
        public static bool Provides(ServicePort service, string? processName, IEnumerable<string> windowsServices) =>
            (processName is not null && service.Programs.Any(n => string.Equals(n, processName, StringComparison.OrdinalIgnoreCase)
                || string.Equals(n, processName + ".exe", StringComparison.OrdinalIgnoreCase)))
            || windowsServices.Any(s => service.WindowsServices.Contains(s, StringComparer.OrdinalIgnoreCase));
    }
}
