# Copyright (c) mmreid_text contributors. All rights reserved.
