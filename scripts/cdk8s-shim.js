#!/usr/bin/env node
// Installed by `make install` as node_modules/.bin/cdk8s: the cdk8s CLI without its npm
// upgrade check by default (CDK8S_CHECK_UPGRADE=true still turns it on). See docs/synth.md.
process.env.CDK8S_CHECK_UPGRADE ??= 'false';
require('../cdk8s-cli/bin/cdk8s');
