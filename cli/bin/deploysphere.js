#!/usr/bin/env node
import '../dist/deploysphere.js';
