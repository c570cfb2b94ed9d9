#!/usr/bin/perl
# Ask with Perl's Net::Ident who owns the connection behind an accepted TCP
# socket, inherited as file descriptor FD. Net::Ident binds to the socket's
# local address and connects to port 113 of its peer.
# Prints: user=<userid> opsys=<opsys> error=<error>
use strict;
use warnings;
use Net::Ident;

my $fd = shift;
defined $fd && $fd =~ /^\d+$/ or die "usage: $0 FD\n";
open(my $sock, '+<&=', $fd) or die "cannot open fd $fd: $!\n";
my ($user, $opsys, $error) = Net::Ident::lookup($sock, 5);
printf "user=%s opsys=%s error=%s\n", map { defined $_ ? $_ : '' } $user, $opsys, $error;
