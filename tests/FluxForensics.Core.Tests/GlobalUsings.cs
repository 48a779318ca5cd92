// The facts the sources read and the rules judge (sockets, processes, files, persistence entries) are Model types;
// the tests name them beside the Host readers that produce them.
global using FluxForensics.Model;
