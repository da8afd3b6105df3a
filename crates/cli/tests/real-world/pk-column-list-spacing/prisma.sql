-- AlterTable
ALTER TABLE "Snapshot" DROP CONSTRAINT "Snapshot_pkey",
ADD CONSTRAINT "Snapshot_pkey" PRIMARY KEY ("workspace", "guid");

