#!/bin/sh
# Prisma's CLI insists on a native schema engine even for `generate`, which needs none. The
# engine cannot be downloaded on offline machines, so generate runs against this stub. Never use
# it for `migrate` or `db push`: they would exit 0 and apply nothing (see docs/database.md).
exit 0
