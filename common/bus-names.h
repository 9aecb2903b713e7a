/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names vfiod owns on the bus, shared by daemon and client. */

#define VFIOD_BUS_NAME "io.github.vfiod1"
#define VFIOD_ROOT_PATH "/io/github/vfiod1"
#define VFIOD_DEVICE_PATH_PREFIX VFIOD_ROOT_PATH "/device"
#define VFIOD_GROUP_PATH_PREFIX VFIOD_ROOT_PATH "/group"
#define VFIOD_LEASE_PATH_PREFIX VFIOD_ROOT_PATH "/lease"

#define VFIOD_MANAGER_INTERFACE "io.github.vfiod1.Manager"
#define VFIOD_DEVICE_INTERFACE "io.github.vfiod1.Device"
#define VFIOD_GROUP_INTERFACE "io.github.vfiod1.Group"
#define VFIOD_LEASE_INTERFACE "io.github.vfiod1.Lease"

/* polkit actions (polkit/io.github.vfiod1.policy) */
#define VFIOD_ACTION_CLAIM "io.github.vfiod1.claim"
#define VFIOD_ACTION_CLAIM_HOST_CRITICAL "io.github.vfiod1.claim-host-critical"
#define VFIOD_ACTION_RELEASE_ANY "io.github.vfiod1.release-any"
#define VFIOD_ACTION_RESERVE "io.github.vfiod1.reserve"
#define VFIOD_ACTION_MEMLOCK "io.github.vfiod1.memlock"
#define VFIOD_ACTION_MEMLOCK_OTHER "io.github.vfiod1.memlock-other"
#define VFIOD_ACTION_PREPARE "io.github.vfiod1.prepare"
#define VFIOD_ACTION_UNPREPARE "io.github.vfiod1.unprepare"

/* Bumped when a method, property or signal changes incompatibly. */
#define VFIOD_API_VERSION 1

/* The handle of an endpoint's cdev in a cdev-mode claim's answer:
 * "device:0000:01:00.0". */
#define CDEV_HANDLE_PREFIX "device:"

#define VFIOD_ERROR_INVALID_ADDRESS "io.github.vfiod1.Error.InvalidAddress"
#define VFIOD_ERROR_NO_SUCH_DEVICE "io.github.vfiod1.Error.NoSuchDevice"
#define VFIOD_ERROR_NO_SUCH_GROUP "io.github.vfiod1.Error.NoSuchGroup"
#define VFIOD_ERROR_NO_IOMMU "io.github.vfiod1.Error.NoIommu"
#define VFIOD_ERROR_GROUP_BUSY "io.github.vfiod1.Error.GroupBusy"
#define VFIOD_ERROR_NOT_CLAIMED "io.github.vfiod1.Error.NotClaimed"
#define VFIOD_ERROR_DEVICE_BUSY "io.github.vfiod1.Error.DeviceBusy"
#define VFIOD_ERROR_HOST_CRITICAL "io.github.vfiod1.Error.HostCritical"
#define VFIOD_ERROR_PLATFORM_DEVICE "io.github.vfiod1.Error.PlatformDevice"
#define VFIOD_ERROR_BIND_FAILED "io.github.vfiod1.Error.BindFailed"
#define VFIOD_ERROR_TIMEOUT "io.github.vfiod1.Error.Timeout"
#define VFIOD_ERROR_NOT_AUTHORIZED "io.github.vfiod1.Error.NotAuthorized"
#define VFIOD_ERROR_GROUP_NOT_VIABLE "io.github.vfiod1.Error.GroupNotViable"
#define VFIOD_ERROR_LIMIT_EXCEEDED "io.github.vfiod1.Error.LimitExceeded"
#define VFIOD_ERROR_NO_SUCH_PROCESS "io.github.vfiod1.Error.NoSuchProcess"
#define VFIOD_ERROR_INVALID_MATCH "io.github.vfiod1.Error.InvalidMatch"
#define VFIOD_ERROR_ALREADY_RESERVED "io.github.vfiod1.Error.AlreadyReserved"
#define VFIOD_ERROR_NO_SUCH_RESERVATION "io.github.vfiod1.Error.NoSuchReservation"
#define VFIOD_ERROR_NOT_SUPPORTED "io.github.vfiod1.Error.NotSupported"
#define VFIOD_ERROR_INVALID_CLAIM_ID "io.github.vfiod1.Error.InvalidClaimId"
#define VFIOD_ERROR_ALREADY_PREPARED "io.github.vfiod1.Error.AlreadyPrepared"
