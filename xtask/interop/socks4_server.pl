#!/usr/bin/perl
# A SOCKS4/4a server for the interop tests. The protocol is Debian's IO::Socket::Socks
# (libio-socket-socks-perl, server mode with the 4a extension and a user-id check); this
# script only relays bytes once the library has accepted a request.
# Usage: socks4_server.pl PORT USERID
use strict;
use warnings;
use IO::Socket::Socks qw(:constants $SOCKS_ERROR);
use IO::Socket::INET;
use IO::Select;

my ($port, $user) = @ARGV;
die "usage: $0 PORT USERID\n" unless defined $user;
$SIG{CHLD} = 'IGNORE';
my $server = IO::Socket::Socks->new(
    ProxyAddr    => '127.0.0.1',
    ProxyPort    => $port,
    Listen       => 16,
    ReuseAddr    => 1,
    SocksVersion => 4,
    SocksResolve => 1,
    UserAuth     => sub { $_[0] eq $user },
) or die "cannot listen on $port: $SOCKS_ERROR\n";
$| = 1;
print "SOCKS4/4a on 127.0.0.1:$port, user id $user\n";

while (1) {
    my $client = $server->accept() or next;
    if (fork) { close $client; next; }
    my ($cmd, $host, $dport) = @{ $client->command() };
    print "request for $host:$dport\n";
    my $target = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $dport, Timeout => 5);
    unless ($target) {
        $client->command_reply(REQUEST_FAILED, '0.0.0.0', 0);
        exit 0;
    }
    $client->command_reply(REQUEST_GRANTED, $target->sockhost, $target->sockport);
    my $sel = IO::Select->new($client, $target);
    while (my @ready = $sel->can_read) {
        for my $fh (@ready) {
            my $n = sysread($fh, my $buf, 65536);
            exit 0 unless $n;
            syswrite($fh == $client ? $target : $client, $buf);
        }
    }
    exit 0;
}
