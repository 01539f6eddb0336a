// Package feed turns a show and its episodes into bytes: the RSS 2.0
// document podcast apps subscribe to, and the semester exports. Its
// functions are pure: no clock, no environment, no network; the caller
// passes the build time.
package feed
